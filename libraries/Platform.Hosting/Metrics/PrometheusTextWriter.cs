using System.Globalization;
using System.Text;

namespace Platform.Hosting.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format (version 0.0.4). Every family is written as one
/// contiguous group with its HELP and TYPE lines; label values and help text are escaped.
/// </summary>
internal sealed class PrometheusTextWriter
{
    private readonly StringBuilder output = new();

    public void WriteFamilyHeader(string name, string type, string help)
    {
        output.Append("# HELP ").Append(name).Append(' ');
        AppendEscapedHelp(help);
        output.Append('\n');
        output.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    public void WriteSample(string name, IReadOnlyList<KeyValuePair<string, string>> labels, double value) =>
        WriteSample(name, labels, extraLabelName: null, extraLabelValue: null, FormatDouble(value));

    public void WriteSample(string name, IReadOnlyList<KeyValuePair<string, string>> labels, long value) =>
        WriteSample(name, labels, extraLabelName: null, extraLabelValue: null, value.ToString(CultureInfo.InvariantCulture));

    public void WriteBucket(string name, IReadOnlyList<KeyValuePair<string, string>> labels, double upperBound, long cumulativeCount) =>
        WriteSample(name, labels, "le", FormatDouble(upperBound), cumulativeCount.ToString(CultureInfo.InvariantCulture));

    public override string ToString() => output.ToString();

    private void WriteSample(string name, IReadOnlyList<KeyValuePair<string, string>> labels, string? extraLabelName, string? extraLabelValue, string value)
    {
        output.Append(name);
        if (labels.Count > 0 || extraLabelName is not null)
        {
            output.Append('{');
            var first = true;
            foreach (var (labelName, labelValue) in labels)
            {
                AppendLabel(labelName, labelValue, ref first);
            }
            if (extraLabelName is not null)
            {
                AppendLabel(extraLabelName, extraLabelValue!, ref first);
            }
            output.Append('}');
        }
        output.Append(' ').Append(value).Append('\n');
    }

    private void AppendLabel(string labelName, string labelValue, ref bool first)
    {
        if (!first)
        {
            output.Append(',');
        }
        first = false;
        output.Append(labelName).Append("=\"");
        foreach (var c in labelValue)
        {
            switch (c)
            {
                case '\\': output.Append("\\\\"); break;
                case '"': output.Append("\\\""); break;
                case '\n': output.Append("\\n"); break;
                default: output.Append(c); break;
            }
        }
        output.Append('"');
    }

    private void AppendEscapedHelp(string help)
    {
        foreach (var c in help)
        {
            switch (c)
            {
                case '\\': output.Append("\\\\"); break;
                case '\n': output.Append("\\n"); break;
                default: output.Append(c); break;
            }
        }
    }

    public static string FormatDouble(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
