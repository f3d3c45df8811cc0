using k8s.Models;
using Platform.Operator.Resources;

namespace Platform.Operator.Scaling;

/// <summary>The HPA the operator applies for one service of a ScalingPolicy: only the fields it owns.</summary>
public static class HorizontalPodAutoscalerFactory
{
    public const string PolicyLabel = "platform.dev/scaling-policy";

    /// <summary>Scale up fast: no stabilisation, double or add 4 pods every 15 s, whichever is more.</summary>
    private static readonly ScalingBehavior DefaultScaleUp = new() { StabilizationWindowSeconds = 0, MaxPercentPerPeriod = 100, MaxPodsPerPeriod = 4, PeriodSeconds = 15 };

    /// <summary>Scale down slowly: 300 s of stabilisation so a dip does not shed pods a returning peak needs.</summary>
    private static readonly ScalingBehavior DefaultScaleDown = new() { StabilizationWindowSeconds = 300, MaxPercentPerPeriod = 100, PeriodSeconds = 15 };

    public static V2HorizontalPodAutoscaler Build(ScalingPolicy policy, ScaledService service, ReplicaBounds bounds)
    {
        var metrics = new List<V2MetricSpec>
        {
            new()
            {
                Type = "Resource",
                Resource = new V2ResourceMetricSource { Name = "cpu", Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = service.CpuTargetPercent } },
            },
        };
        if (service.RpsMetric is { } rps)
        {
            var averageValue = service.RpsPerPod * rps.TargetUtilizationPercent / 100m;
            metrics.Add(new V2MetricSpec
            {
                Type = "Pods",
                Pods = new V2PodsMetricSource
                {
                    Metric = new V2MetricIdentifier { Name = rps.Name },
                    Target = new V2MetricTarget { Type = "AverageValue", AverageValue = new ResourceQuantity(Quantity(averageValue)) },
                },
            });
        }
        return new V2HorizontalPodAutoscaler
        {
            ApiVersion = "autoscaling/v2",
            Kind = "HorizontalPodAutoscaler",
            Metadata = new V1ObjectMeta
            {
                Name = service.Deployment,
                NamespaceProperty = policy.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string>
                {
                    [PlatformGroup.ManagedByLabel] = PlatformGroup.FieldManager,
                    [PolicyLabel] = policy.Metadata.Name,
                },
                OwnerReferences = [Owner.Of(policy)],
            },
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = service.Deployment },
                MinReplicas = bounds.MinReplicas,
                MaxReplicas = bounds.MaxReplicas,
                Metrics = metrics,
                Behavior = new V2HorizontalPodAutoscalerBehavior
                {
                    ScaleUp = Rules(service.ScaleUp, DefaultScaleUp),
                    ScaleDown = Rules(service.ScaleDown, DefaultScaleDown),
                },
            },
        };
    }

    private static V2HPAScalingRules Rules(ScalingBehavior? configured, ScalingBehavior defaults)
    {
        var period = configured?.PeriodSeconds ?? defaults.PeriodSeconds ?? 15;
        var policies = new List<V2HPAScalingPolicy>();
        if ((configured?.MaxPercentPerPeriod ?? defaults.MaxPercentPerPeriod) is { } percent)
        {
            policies.Add(new V2HPAScalingPolicy { Type = "Percent", Value = percent, PeriodSeconds = period });
        }
        if ((configured?.MaxPodsPerPeriod ?? defaults.MaxPodsPerPeriod) is { } pods)
        {
            policies.Add(new V2HPAScalingPolicy { Type = "Pods", Value = pods, PeriodSeconds = period });
        }
        return new V2HPAScalingRules
        {
            StabilizationWindowSeconds = configured?.StabilizationWindowSeconds ?? defaults.StabilizationWindowSeconds,
            SelectPolicy = "Max",
            Policies = policies,
        };
    }

    /// <summary>A Kubernetes quantity: whole numbers as they are, fractions in milli-units ("12.5" → "12500m").</summary>
    private static string Quantity(decimal value) =>
        decimal.Truncate(value) == value
            ? ((long)value).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : ((long)Math.Ceiling(value * 1000)).ToString(System.Globalization.CultureInfo.InvariantCulture) + "m";
}
