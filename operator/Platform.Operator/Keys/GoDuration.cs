using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Platform.Operator.Keys;

/// <summary>
/// Durations as Kubernetes writes them (Go's time.ParseDuration, the CRD format "duration"): "90s", "10m",
/// "1h30m", "720h". Only non-negative values with the units h, m, s and ms are accepted; that covers every
/// timing a custom resource here needs. The SigningKeyRotation CRD carries the same pattern (not the OpenAPI
/// format "duration", which is wider), so the API server refuses what this refuses; \z, not $, because $ would
/// also match before a final newline, which the API server's RE2 does not. Numbers have at most six digits
/// (999999h is 114 years) and the text at most 64 characters, as in the CRD, so no duration overflows.
/// </summary>
public static partial class GoDuration
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || text.Length > 64 || !DurationPattern().IsMatch(text))
        {
            return false;
        }
        foreach (Match part in PartPattern().Matches(text))
        {
            var value = decimal.Parse(part.Groups["value"].Value, CultureInfo.InvariantCulture);
            duration += part.Groups["unit"].Value switch
            {
                "h" => TimeSpan.FromHours((double)value),
                "m" => TimeSpan.FromMinutes((double)value),
                "s" => TimeSpan.FromSeconds((double)value),
                _ => TimeSpan.FromMilliseconds((double)value),
            };
        }
        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var duration) ? duration : throw new FormatException($"'{text}' is not a duration such as 90s, 10m or 1h30m.");

    /// <summary>The shortest Go form: 5400 s → "1h30m", 0.5 s → "500ms".</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }
        var text = new StringBuilder();
        if (duration.Days > 0 || duration.Hours > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{(int)duration.TotalHours}h");
        }
        if (duration.Minutes > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{duration.Minutes}m");
        }
        if (duration.Seconds > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{duration.Seconds}s");
        }
        if (duration.Milliseconds > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{duration.Milliseconds}ms");
        }
        return text.ToString();
    }

    [GeneratedRegex(@"^([0-9]{1,6}(\.[0-9]{1,9})?(h|m|s|ms))+\z", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"(?<value>[0-9]+(\.[0-9]+)?)(?<unit>ms|h|m|s)", RegexOptions.CultureInvariant)]
    private static partial Regex PartPattern();
}
