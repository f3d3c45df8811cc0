using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Platform.Auth.Keys;

/// <summary>An auth pod without an active signing key cannot log anyone in: it is not ready.</summary>
public sealed class KeysetHealthCheck(KeysetProvider keys, TimeProvider clock) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(keys.Current.ActiveAt(clock.GetUtcNow()) is { } active
            ? HealthCheckResult.Healthy($"keyset version {keys.Current.Version}, active key {active.Kid}")
            : HealthCheckResult.Unhealthy($"no active signing key in keyset version {keys.Current.Version}"));
}
