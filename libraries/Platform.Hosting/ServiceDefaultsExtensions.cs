using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Hosting.Health;
using Platform.Hosting.Logging;
using Platform.Hosting.Metrics;
using Platform.Hosting.Problems;

namespace Platform.Hosting;

public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// What every service gets: JSON logs with trace ids, problem details for every error, Prometheus
    /// metrics, liveness/readiness checks, hardened Kestrel limits and a bounded graceful shutdown. The pipeline is each
    /// service's own, written out in its Program.cs in the order it runs.
    /// </summary>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Logging.AddPlatformJsonConsole();
        builder.ConfigurePlatformKestrel();
        builder.Services.Configure<HostOptions>(options =>
            options.ShutdownTimeout = TimeSpan.FromSeconds(builder.Configuration.GetValue(ConfigurationKeys.ShutdownTimeoutSeconds, 25)));
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddPlatformProblemDetails();
        builder.Services.AddPrometheusMetrics();
        builder.Services.AddHealthChecks()
            .AddCheck<ShutdownHealthCheck>("shutdown", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }
}
