using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.Gateway.Resilience;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Platform.Gateway.Upstreams;

/// <summary>
/// Whether each upstream can take requests: at least one of its addresses passes YARP's active (probe of
/// /healthz) and passive (recent transport failures) checks and has no open circuit.
/// </summary>
public sealed class UpstreamHealth(IProxyStateLookup proxyState, UpstreamResilience resilience)
{
    public IReadOnlyDictionary<string, bool> Snapshot() =>
        proxyState.GetClusters().ToDictionary(cluster => cluster.ClusterId, IsAvailable, StringComparer.Ordinal);

    private bool IsAvailable(ClusterState cluster) =>
        cluster.Destinations.Values.Any(destination =>
            destination.Health.Active != DestinationHealth.Unhealthy && destination.Health.Passive != DestinationHealth.Unhealthy
            && !resilience.IsOpen(cluster.ClusterId, new Uri(destination.Model.Config.Address)));
}

/// <summary>
/// Readiness of the gateway from its upstreams: degraded (still ready: the other routes work) while some are
/// down, not ready only when none is reachable, so one failing service never takes the whole edge out of the
/// load balancer.
/// </summary>
public sealed class UpstreamsHealthCheck(UpstreamHealth health) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = health.Snapshot();
        var down = snapshot.Where(pair => !pair.Value).Select(pair => pair.Key).Order(StringComparer.Ordinal).ToArray();
        return Task.FromResult(down.Length switch
        {
            0 => HealthCheckResult.Healthy(),
            _ when down.Length == snapshot.Count => HealthCheckResult.Unhealthy("No upstream is reachable."),
            _ => HealthCheckResult.Degraded("Unreachable: " + string.Join(", ", down)),
        });
    }
}
