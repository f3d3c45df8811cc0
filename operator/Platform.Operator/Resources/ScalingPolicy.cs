using k8s;
using k8s.Models;

namespace Platform.Operator.Resources;

/// <summary>The platform.dev/v1alpha1 ScalingPolicy custom resource (docs/architecture.md §5.3): one HPA per service, sized from the ingress target.</summary>
[KubernetesEntity(Group = PlatformGroup.Name, ApiVersion = PlatformGroup.Version, Kind = "ScalingPolicy", PluralName = "scalingpolicies")]
public sealed class ScalingPolicy : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = PlatformGroup.ApiVersion;

    public string Kind { get; set; } = "ScalingPolicy";

    public V1ObjectMeta Metadata { get; set; } = new();

    public ScalingPolicySpec Spec { get; set; } = new();

    public ScalingPolicyStatus? Status { get; set; }
}

public sealed class ScalingPolicySpec
{
    /// <summary>Requests per second at the ingress the platform must carry.</summary>
    public long TargetRps { get; set; }

    /// <summary>Extra replicas allowed above what the target needs, in percent.</summary>
    public int HeadroomPercent { get; set; } = 20;

    public IList<ScaledService> Services { get; set; } = [];
}

public sealed class ScaledService
{
    public string Name { get; set; } = "";

    public string Deployment { get; set; } = "";

    /// <summary>Fraction of the ingress requests this service receives (0–1].</summary>
    public decimal Share { get; set; }

    /// <summary>Requests per second one pod carries at its CPU target (measured).</summary>
    public decimal RpsPerPod { get; set; }

    public int MinReplicas { get; set; } = 2;

    /// <summary>The cap: the HPA's maximum never exceeds it.</summary>
    public int MaxReplicas { get; set; }

    public int CpuTargetPercent { get; set; } = 70;

    public RpsMetric? RpsMetric { get; set; }

    public ScalingBehavior? ScaleUp { get; set; }

    public ScalingBehavior? ScaleDown { get; set; }
}

/// <summary>A Pods metric (served by a Prometheus adapter) the HPA targets at rpsPerPod × utilisation.</summary>
public sealed class RpsMetric
{
    public string Name { get; set; } = "";

    public int TargetUtilizationPercent { get; set; } = 80;
}

public sealed class ScalingBehavior
{
    public int? StabilizationWindowSeconds { get; set; }

    /// <summary>At most this percent of the current replicas added or removed per period.</summary>
    public int? MaxPercentPerPeriod { get; set; }

    /// <summary>At most this many pods added or removed per period.</summary>
    public int? MaxPodsPerPeriod { get; set; }

    public int? PeriodSeconds { get; set; }
}

public sealed class ScalingPolicyStatus
{
    public long? ObservedGeneration { get; set; }

    /// <summary>How many services the policy sizes (a printer column).</summary>
    public int ServiceCount { get; set; }

    public IList<ScaledServiceStatus>? Services { get; set; }

    public IList<V1Condition>? Conditions { get; set; }
}

public sealed class ScaledServiceStatus
{
    public string Name { get; set; } = "";

    public string Deployment { get; set; } = "";

    public int ReplicasAtTarget { get; set; }

    public int MinReplicas { get; set; }

    public int MaxReplicas { get; set; }

    public int? CurrentReplicas { get; set; }

    public int? DesiredReplicas { get; set; }

    /// <summary>Requests per second the service carries at maxReplicas.</summary>
    public decimal CapacityRps { get; set; }
}
