using System.Text;

namespace Platform.Hosting.Metrics;

/// <summary>
/// Maps OpenTelemetry instrument names, units and attribute keys to Prometheus names, following the
/// OpenTelemetry specification's Prometheus compatibility rules (unit suffix, "_total" for counters).
/// </summary>
internal static class PrometheusNames
{
    public static string MetricName(string instrumentName, string? unit, bool isCounter)
    {
        var name = Sanitize(instrumentName);
        var unitSuffix = UnitSuffix(unit, isCounter);
        if (isCounter && name.EndsWith("_total", StringComparison.Ordinal))
        {
            name = name[..^"_total".Length];
        }
        if (unitSuffix.Length > 0 && !name.EndsWith("_" + unitSuffix, StringComparison.Ordinal))
        {
            name = name + "_" + unitSuffix;
        }
        return isCounter ? name + "_total" : name;
    }

    public static string LabelName(string attributeKey)
    {
        var name = Sanitize(attributeKey).Replace(':', '_');
        return name.StartsWith("__", StringComparison.Ordinal) ? "key" + name : name;
    }

    /// <summary>Unit to suffix: "s" → "seconds", "By/s" → "bytes_per_second"; "{request}" annotations drop out.</summary>
    public static string UnitSuffix(string? unit, bool isCounter)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return "";
        }
        var withoutAnnotations = StripAnnotations(unit).Trim();
        if (withoutAnnotations.Length == 0)
        {
            return "";
        }
        if (withoutAnnotations == "1")
        {
            return isCounter ? "" : "ratio";
        }
        var slash = withoutAnnotations.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return Sanitize(UnitWord(withoutAnnotations));
        }
        var numerator = UnitWord(withoutAnnotations[..slash]);
        var denominator = PerUnitWord(withoutAnnotations[(slash + 1)..]);
        return Sanitize(numerator.Length == 0 ? "per_" + denominator : numerator + "_per_" + denominator);
    }

    private static string UnitWord(string unit) => unit switch
    {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "%" => "percent",
        "Hz" => "hertz",
        "Cel" => "celsius",
        _ => unit,
    };

    private static string PerUnitWord(string unit) => unit switch
    {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => unit,
    };

    private static string StripAnnotations(string unit)
    {
        if (!unit.Contains('{', StringComparison.Ordinal))
        {
            return unit;
        }
        var builder = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{') { depth++; continue; }
            if (c == '}') { depth = Math.Max(0, depth - 1); continue; }
            if (depth == 0) { builder.Append(c); }
        }
        return builder.ToString();
    }

    /// <summary>Replaces every character outside [a-zA-Z0-9_:] by '_', collapses runs of '_', and keeps the first character legal.</summary>
    public static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length + 1);
        foreach (var c in name)
        {
            var legal = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or ':' ? c : '_';
            if (legal == '_' && builder.Length > 0 && builder[^1] == '_')
            {
                continue;
            }
            builder.Append(legal);
        }
        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }
        return builder.ToString();
    }
}
