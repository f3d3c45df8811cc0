using Platform.Operator.Resources;

namespace Platform.Operator.Scaling;

/// <param name="ReplicasAtTarget">Pods the service needs to carry its share of the target.</param>
/// <param name="Shortfall">The cap cannot carry the target.</param>
public sealed record ReplicaBounds(int ReplicasAtTarget, int MinReplicas, int MaxReplicas, decimal CapacityRps, bool Shortfall);

/// <summary>
/// The HPA arithmetic of docs/architecture.md §5.3, in decimal so a share such as 0.3 cannot turn 60 pods into 61
/// through a binary rounding error: replicasAtTarget = ⌈targetRps × share / rpsPerPod⌉, max = min(cap,
/// ⌈replicasAtTarget × (1 + headroom)⌉) but never below min, capacity = max × rpsPerPod.
/// </summary>
public static class ReplicaArithmetic
{
    public static ReplicaBounds Compute(long targetRps, int headroomPercent, ScaledService service)
    {
        var replicasAtTarget = (int)Math.Ceiling(targetRps * service.Share / service.RpsPerPod);
        var withHeadroom = (int)Math.Ceiling(replicasAtTarget * (1 + (headroomPercent / 100m)));
        var max = Math.Max(service.MinReplicas, Math.Min(service.MaxReplicas, withHeadroom));
        return new ReplicaBounds(replicasAtTarget, service.MinReplicas, max, max * service.RpsPerPod, Shortfall: replicasAtTarget > service.MaxReplicas);
    }
}
