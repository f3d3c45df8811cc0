using System.Globalization;
using System.Text;

namespace Platform.Files.Api;

/// <summary>
/// Turns whatever name a client sent into one that is safe to store and to hand back in a Content-Disposition:
/// the last path segment only, without control, format (bidirectional overrides, zero-width) or separator
/// characters, trimmed, at most 255 bytes of UTF-8 (cut at a character boundary, keeping a short extension).
/// </summary>
public static class FileNames
{
    public const string Default = "file";
    public const int MaxUtf8Bytes = 255;
    private const int MaxKeptExtensionBytes = 32;

    public static string Sanitize(string? raw)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return Default;
        }
        var lastSegment = raw[(raw.LastIndexOfAny(['/', '\\']) + 1)..];
        var kept = new StringBuilder(lastSegment.Length);
        foreach (var rune in lastSegment.EnumerateRunes())
        {
            if (IsAllowed(rune))
            {
                kept.Append(rune.ToString());
            }
        }
        var name = kept.ToString().Trim();
        if (name.Length == 0 || name.All(c => c == '.'))
        {
            return Default;
        }
        return Truncate(name);
    }

    /// <summary>Unpaired surrogates come out of <see cref="string.EnumerateRunes"/> as U+FFFD, which is harmless to keep.</summary>
    private static bool IsAllowed(Rune rune) => Rune.GetUnicodeCategory(rune) is not (
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned);

    private static string Truncate(string name)
    {
        if (Encoding.UTF8.GetByteCount(name) <= MaxUtf8Bytes)
        {
            return name;
        }
        var extension = Path.GetExtension(name);
        if (Encoding.UTF8.GetByteCount(extension) > MaxKeptExtensionBytes)
        {
            extension = "";
        }
        var budget = MaxUtf8Bytes - Encoding.UTF8.GetByteCount(extension);
        var stem = new StringBuilder();
        var used = 0;
        foreach (var rune in name[..^extension.Length].EnumerateRunes())
        {
            if (used + rune.Utf8SequenceLength > budget)
            {
                break;
            }
            used += rune.Utf8SequenceLength;
            stem.Append(rune.ToString());
        }
        var truncated = stem.ToString().TrimEnd() + extension;
        return truncated.Trim().Length == 0 ? Default : truncated;
    }
}
