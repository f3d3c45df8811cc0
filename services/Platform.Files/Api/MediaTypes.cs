using Microsoft.Net.Http.Headers;

namespace Platform.Files.Api;

/// <summary>
/// The content type a file is stored and served with: a syntactically valid media type in visible ASCII, else
/// octet-stream. A quoted parameter may hold any octet by RFC 9110's grammar (and MediaTypeHeaderValue accepts it),
/// but a NUL is refused by PostgreSQL and a control or non-ASCII character by Kestrel in the Content-Type of every
/// download: either was a 500.
/// </summary>
public static class MediaTypes
{
    public const string Default = "application/octet-stream";
    private const int MaxLength = 255;

    public static string Normalize(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > MaxLength
            || !MediaTypeHeaderValue.TryParse(value, out var parsed)
            || parsed.MatchesAllTypes || parsed.MatchesAllSubTypes // wildcards name ranges of types, not a type
            || parsed.Parameters.Any(parameter => !parameter.Value.HasValue)) // RFC 9110 parameters are name=value
        {
            return Default;
        }
        var normalized = parsed.ToString();
        return normalized.All(c => c is >= ' ' and <= '~') ? normalized : Default;
    }
}
