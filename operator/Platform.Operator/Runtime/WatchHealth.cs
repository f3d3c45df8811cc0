using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Platform.Operator.Runtime;

/// <summary>
/// Readiness includes watch freshness: a leader whose watches have not heard from the API server within
/// the bound (bookmarks arrive about every minute on an idle watch) is not ready. A standby is ready.
/// </summary>
public sealed class WatchHealth(TimeProvider clock) : IHealthCheck
{
    private readonly Lock gate = new();
    private List<Func<(string Name, DateTimeOffset LastContact, bool Synced)>> watches = [];

    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromMinutes(3);

    public void Track(IEnumerable<Func<(string Name, DateTimeOffset LastContact, bool Synced)>> current)
    {
        lock (gate)
        {
            watches = current.ToList();
        }
    }

    public void Clear() => Track([]);

    public IReadOnlyList<(string Name, TimeSpan Age, bool Synced)> Ages(DateTimeOffset now)
    {
        lock (gate)
        {
            return watches.Select(w => w()).Select(w => (w.Name, now - w.LastContact, w.Synced)).ToList();
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var ages = Ages(clock.GetUtcNow());
        if (ages.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy("standby: not leading, nothing to watch"));
        }
        var stale = ages.Where(w => !w.Synced || w.Age > StaleAfter).Select(w => $"{w.Name} ({(w.Synced ? $"{w.Age.TotalSeconds:F0} s" : "not synced")})").ToList();
        return Task.FromResult(stale.Count == 0
            ? HealthCheckResult.Healthy($"{ages.Count} watches fresh")
            : HealthCheckResult.Unhealthy("stale watches: " + string.Join(", ", stale)));
    }
}
