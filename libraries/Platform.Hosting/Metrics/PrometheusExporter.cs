using System.Globalization;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Platform.Hosting.Metrics;

/// <summary>
/// Renders each collected batch of OpenTelemetry metrics as Prometheus text. Metric points are only valid
/// during <see cref="Export"/>, so the text is produced there and kept until the next collection.
/// </summary>
internal sealed class PrometheusExporter : BaseExporter<Metric>
{
    public string LastExposition { get; private set; } = "";

    public override ExportResult Export(in Batch<Metric> batch)
    {
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        foreach (var metric in batch)
        {
            AddMetric(families, metric);
        }
        LastExposition = string.Concat(families.Values.Select(family => family.Text.ToString()));
        return ExportResult.Success;
    }

    private static void AddMetric(Dictionary<string, Family> families, Metric metric)
    {
        var isCounter = metric.MetricType is MetricType.LongSum or MetricType.DoubleSum;
        var type = metric.MetricType switch
        {
            MetricType.LongSum or MetricType.DoubleSum => "counter",
            MetricType.Histogram => "histogram",
            MetricType.LongGauge or MetricType.DoubleGauge or MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic => "gauge",
            _ => null,
        };
        if (type is null)
        {
            return; // exponential histograms are not configured anywhere; nothing to render.
        }
        var name = PrometheusNames.MetricName(metric.Name, metric.Unit, isCounter);
        if (!families.TryGetValue(name, out var family))
        {
            family = new Family(type);
            family.Text.WriteFamilyHeader(name, type, string.IsNullOrWhiteSpace(metric.Description) ? metric.Name : metric.Description);
            families.Add(name, family);
        }
        else if (family.Type != type)
        {
            return; // two instruments map to one name with different types; Prometheus cannot hold both.
        }

        var text = family.Text;
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            var labels = Labels(point.Tags);
            switch (metric.MetricType)
            {
                case MetricType.LongSum or MetricType.LongSumNonMonotonic:
                    text.WriteSample(name, labels, point.GetSumLong());
                    break;
                case MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic:
                    text.WriteSample(name, labels, point.GetSumDouble());
                    break;
                case MetricType.LongGauge:
                    text.WriteSample(name, labels, point.GetGaugeLastValueLong());
                    break;
                case MetricType.DoubleGauge:
                    text.WriteSample(name, labels, point.GetGaugeLastValueDouble());
                    break;
                case MetricType.Histogram:
                    WriteHistogram(text, name, labels, point);
                    break;
            }
        }
    }

    private static void WriteHistogram(PrometheusTextWriter text, string name, List<KeyValuePair<string, string>> labels, in MetricPoint point)
    {
        long cumulative = 0;
        foreach (var bucket in point.GetHistogramBuckets())
        {
            cumulative += bucket.BucketCount;
            text.WriteBucket(name + "_bucket", labels, bucket.ExplicitBound, cumulative);
        }
        text.WriteSample(name + "_sum", labels, point.GetHistogramSum());
        text.WriteSample(name + "_count", labels, point.GetHistogramCount());
    }

    private static List<KeyValuePair<string, string>> Labels(ReadOnlyTagCollection tags)
    {
        var labels = new List<KeyValuePair<string, string>>(tags.Count);
        foreach (var tag in tags)
        {
            labels.Add(new(PrometheusNames.LabelName(tag.Key), LabelValue(tag.Value)));
        }
        return labels;
    }

    private static string LabelValue(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        double d => PrometheusTextWriter.FormatDouble(d),
        float f => PrometheusTextWriter.FormatDouble(f),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private sealed class Family(string type)
    {
        public string Type { get; } = type;

        public PrometheusTextWriter Text { get; } = new();
    }
}
