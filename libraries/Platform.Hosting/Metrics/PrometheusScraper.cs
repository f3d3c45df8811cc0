using OpenTelemetry.Metrics;

namespace Platform.Hosting.Metrics;

/// <summary>
/// Pull side of the exporter: each scrape asks the reader to collect, which exports (and renders)
/// synchronously on the calling thread. Scrapes are serialised because a collection is not re-entrant.
/// </summary>
public sealed class PrometheusScraper : IDisposable
{
    private readonly Lock gate = new();
    private readonly PrometheusExporter exporter = new();

    public PrometheusScraper()
    {
        Reader = new BaseExportingMetricReader(exporter)
        {
            TemporalityPreference = MetricReaderTemporalityPreference.Cumulative,
        };
    }

    public MetricReader Reader { get; }

    /// <summary>The meter provider normally disposes the reader (and with it the exporter) first; disposing twice is harmless.</summary>
    public void Dispose() => Reader.Dispose();

    public string Scrape()
    {
        lock (gate)
        {
            return Reader.Collect(timeoutMilliseconds: 5_000) ? exporter.LastExposition : throw new TimeoutException("Metrics collection did not finish in 5 s.");
        }
    }
}
