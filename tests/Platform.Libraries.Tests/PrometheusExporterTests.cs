using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Platform.Hosting.Metrics;

namespace Platform.Libraries.Tests;

public sealed class PrometheusExporterTests
{
    [Fact]
    public void Known_instruments_render_as_the_expected_exposition_text()
    {
        var meterName = "Platform.Test." + Guid.NewGuid().ToString("N");
        using var scraper = new PrometheusScraper();
        using var meter = new Meter(meterName);
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter(meterName).AddReader(scraper.Reader).Build();

        var logins = meter.CreateCounter<long>("auth.logins", unit: "{login}", description: "Login attempts by result.");
        var inFlight = meter.CreateUpDownCounter<long>("uploads.in_flight", unit: "{upload}", description: "Uploads being received.");
        var keyAge = meter.CreateGauge<double>("signing.key.age", unit: "s", description: "Age of the active key.");
        var duration = meter.CreateHistogram("hash.duration", unit: "s", description: "Hash time.\nOne line per \\ call.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1, 1] });

        logins.Add(3, new KeyValuePair<string, object?>("result", "success"));
        logins.Add(1, new KeyValuePair<string, object?>("result", "say \"hi\"\\\n"));
        inFlight.Add(5);
        inFlight.Add(-2);
        keyAge.Record(12.5);
        duration.Record(0.0078125); // binary-exact values, so the sum below is exact too
        duration.Record(0.0625);
        duration.Record(0.0625);
        duration.Record(4);

        const string expected =
            "# HELP auth_logins_total Login attempts by result.\n" +
            "# TYPE auth_logins_total counter\n" +
            "auth_logins_total{result=\"success\"} 3\n" +
            "auth_logins_total{result=\"say \\\"hi\\\"\\\\\\n\"} 1\n" +
            "# HELP uploads_in_flight Uploads being received.\n" +
            "# TYPE uploads_in_flight gauge\n" +
            "uploads_in_flight 3\n" +
            "# HELP signing_key_age_seconds Age of the active key.\n" +
            "# TYPE signing_key_age_seconds gauge\n" +
            "signing_key_age_seconds 12.5\n" +
            "# HELP hash_duration_seconds Hash time.\\nOne line per \\\\ call.\n" +
            "# TYPE hash_duration_seconds histogram\n" +
            "hash_duration_seconds_bucket{le=\"0.01\"} 1\n" +
            "hash_duration_seconds_bucket{le=\"0.1\"} 3\n" +
            "hash_duration_seconds_bucket{le=\"1\"} 3\n" +
            "hash_duration_seconds_bucket{le=\"+Inf\"} 4\n" +
            "hash_duration_seconds_sum 4.1328125\n" +
            "hash_duration_seconds_count 4\n";
        Assert.Equal(expected, scraper.Scrape());
    }

    /// <summary>
    /// Two services in one process (tests run many) each have their own meter factory and meters of the same name:
    /// each /metrics must count its own, and keep counting when the other is disposed.
    /// </summary>
    [Fact]
    public void Each_service_provider_exports_its_own_meters_only()
    {
        using var first = new ServiceCollection().AddMetrics().AddPrometheusMetrics().BuildServiceProvider();
        using var second = new ServiceCollection().AddMetrics().AddPrometheusMetrics().BuildServiceProvider();
        var firstCounter = Counter(first);
        var secondCounter = Counter(second);
        var firstScraper = first.GetRequiredService<PrometheusScraper>();

        firstCounter.Add(1);
        secondCounter.Add(10);
        // An instrument another view renames or re-buckets is the other provider's too.
        second.GetRequiredService<IMeterFactory>().Create("Microsoft.AspNetCore.Hosting").CreateHistogram<double>("http.server.request.duration", "s").Record(0.001);
        Assert.Equal(1, Sample(firstScraper.Scrape()));
        Assert.DoesNotContain("http_server_request_duration", firstScraper.Scrape(), StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_count 1", second.GetRequiredService<PrometheusScraper>().Scrape(), StringComparison.Ordinal);

        var secondScraper = second.GetRequiredService<PrometheusScraper>();
        Assert.Equal(10, Sample(secondScraper.Scrape()));
        first.Dispose();
        for (var round = 1; round <= 3; round++)
        {
            secondCounter.Add(1);
            Assert.Equal(10 + round, Sample(secondScraper.Scrape()));
        }

        static long? Sample(string exposition) => exposition.Split('\n').FirstOrDefault(line => line.StartsWith("shared_things_total ", StringComparison.Ordinal)) is { } line
            ? long.Parse(line["shared_things_total ".Length..], System.Globalization.CultureInfo.InvariantCulture)
            : null;

        static Counter<long> Counter(IServiceProvider services)
        {
            _ = services.GetRequiredService<OpenTelemetry.Metrics.MeterProvider>();
            return services.GetRequiredService<IMeterFactory>().Create("Platform.Shared").CreateCounter<long>("shared.things");
        }
    }

    [Fact]
    public void Counters_are_cumulative_across_scrapes()
    {
        var meterName = "Platform.Test." + Guid.NewGuid().ToString("N");
        using var scraper = new PrometheusScraper();
        using var meter = new Meter(meterName);
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter(meterName).AddReader(scraper.Reader).Build();
        var requests = meter.CreateCounter<long>("requests");

        requests.Add(2);
        Assert.Contains("\nrequests_total 2\n", scraper.Scrape(), StringComparison.Ordinal);
        requests.Add(5);
        Assert.Contains("\nrequests_total 7\n", scraper.Scrape(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http.server.request.duration", "s", false, "http_server_request_duration_seconds")]
    [InlineData("dotnet.gc.collections", "{collection}", true, "dotnet_gc_collections_total")]
    [InlineData("dotnet.gc.heap.total_allocated", "By", true, "dotnet_gc_heap_total_allocated_bytes_total")]
    [InlineData("outbox.published_total", "{event}", true, "outbox_published_total")]
    [InlineData("cpu.utilization", "1", false, "cpu_utilization_ratio")]
    [InlineData("network.throughput", "By/s", false, "network_throughput_bytes_per_second")]
    [InlineData("queue-depth..now", null, false, "queue_depth_now")]
    [InlineData("9lives", "", false, "_9lives")]
    [InlineData("request.duration_seconds", "s", false, "request_duration_seconds")]
    public void Instrument_names_map_to_prometheus_names(string instrument, string? unit, bool isCounter, string expected) =>
        Assert.Equal(expected, PrometheusNames.MetricName(instrument, unit, isCounter));
}
