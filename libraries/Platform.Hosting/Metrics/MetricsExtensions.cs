using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Platform.Hosting.Metrics;

public static class MetricsExtensions
{
    /// <summary>Meters every service exports; services add their own under "Platform.*".</summary>
    private static readonly string[] ExportedMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Diagnostics",
        "System.Runtime",
        "System.Net.Http",
        "Platform.*",
    ];

    /// <summary>
    /// Request durations of these services are mostly below a millisecond; ASP.NET Core's advised buckets
    /// start at 5 ms, which would put every request in the first bucket and make p50/p99 meaningless.
    /// </summary>
    private static readonly double[] RequestDurationBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>
    /// .NET runtime gauges whose names end in ".count" would render as "_count", a suffix Prometheus reserves
    /// for histograms and summaries (promtool rejects it); these names say the same without it.
    /// </summary>
    private static readonly (string Instrument, string Name)[] RuntimeGaugeRenames =
    [
        ("dotnet.assembly.count", "dotnet.assemblies.loaded"),
        ("dotnet.process.cpu.count", "dotnet.process.cpus"),
        ("dotnet.timer.count", "dotnet.timers"),
    ];

    public static IServiceCollection AddPrometheusMetrics(this IServiceCollection services)
    {
        var scraper = new PrometheusScraper();
        services.AddSingleton(scraper);
        var owner = new MeterOwner();
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            ((IDeferredMeterProviderBuilder)metrics).Configure((provider, _) => owner.Factory = provider.GetRequiredService<IMeterFactory>());
            metrics.AddMeter(ExportedMeters)
                .AddView(instrument => View(instrument, owner.Factory))
                .AddReader(scraper.Reader);
        });
        return services;
    }

    /// <summary>
    /// One view for every instrument, because every view that matches makes a stream: a meter provider hears the
    /// meters of its names in the whole process, and a meter another service provider's factory made (another
    /// host in the same process, as in tests) is that host's to export, not this one's.
    /// </summary>
    private static MetricStreamConfiguration? View(Instrument instrument, IMeterFactory? owner)
    {
        if (instrument.Meter.Scope is IMeterFactory factory && !ReferenceEquals(factory, owner))
        {
            return MetricStreamConfiguration.Drop;
        }
        if (instrument.Name is "http.server.request.duration" or "http.client.request.duration")
        {
            return new ExplicitBucketHistogramConfiguration { Boundaries = RequestDurationBuckets };
        }
        foreach (var (name, rename) in RuntimeGaugeRenames)
        {
            if (instrument.Name == name)
            {
                return new MetricStreamConfiguration { Name = rename };
            }
        }
        return null;
    }

    public static IEndpointConventionBuilder MapPrometheusScrapingEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/metrics", (PrometheusScraper scraper) =>
                Results.Text(scraper.Scrape(), "text/plain; version=0.0.4; charset=utf-8"))
            .ExcludeFromDescription()
            .DisableHttpMetrics()
            .AllowAnonymous(); // probes and Prometheus carry no token, even where a fallback policy demands one

    private sealed class MeterOwner
    {
        public IMeterFactory? Factory { get; set; }
    }
}
