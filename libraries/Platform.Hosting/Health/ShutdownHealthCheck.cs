using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Platform.Hosting.Health;

/// <summary>Not ready once shutdown has begun, so the load balancer stops sending new requests while in-flight ones drain.</summary>
internal sealed class ShutdownHealthCheck(Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("Shutting down.")
            : HealthCheckResult.Healthy());
}
