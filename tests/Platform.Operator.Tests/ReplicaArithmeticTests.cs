using Platform.Operator.Resources;
using Platform.Operator.Scaling;

namespace Platform.Operator.Tests;

public sealed class ReplicaArithmeticTests
{
    [Theory]
    [InlineData(100_000, 20, "0.5", "500", 2, 200, 100, 120, false)]
    [InlineData(100_000, 20, "0.3", "500", 2, 200, 60, 72, false)] // 0.3 in binary floating point would make 61
    [InlineData(100_000, 20, "0.5", "500", 2, 110, 100, 110, false)] // headroom clipped by the cap
    [InlineData(100_000, 20, "0.5", "500", 2, 80, 100, 80, true)] // the cap cannot carry the target
    [InlineData(100, 20, "0.1", "500", 3, 10, 1, 3, false)] // a tiny target: max never below min
    [InlineData(100_000, 0, "1", "333", 1, 1000, 301, 301, false)] // ceil, no headroom
    [InlineData(100_000, 50, "0.25", "1000", 2, 100, 25, 38, false)] // ceil(25 × 1.5) = 38
    public void Bounds_follow_the_design_formula(long targetRps, int headroom, string share, string rpsPerPod, int min, int cap,
        int replicasAtTarget, int expectedMax, bool shortfall)
    {
        var service = new ScaledService { Share = decimal.Parse(share, System.Globalization.CultureInfo.InvariantCulture), RpsPerPod = decimal.Parse(rpsPerPod, System.Globalization.CultureInfo.InvariantCulture), MinReplicas = min, MaxReplicas = cap };

        var bounds = ReplicaArithmetic.Compute(targetRps, headroom, service);

        Assert.Equal(replicasAtTarget, bounds.ReplicasAtTarget);
        Assert.Equal(min, bounds.MinReplicas);
        Assert.Equal(expectedMax, bounds.MaxReplicas);
        Assert.Equal(expectedMax * service.RpsPerPod, bounds.CapacityRps);
        Assert.Equal(shortfall, bounds.Shortfall);
    }

    [Fact]
    public void The_autoscaler_targets_cpu_and_the_rps_metric_with_fast_scale_up_and_slow_scale_down_by_default()
    {
        var policy = new ScalingPolicy { Metadata = new() { Name = "platform", NamespaceProperty = "p", Uid = "u" } };
        var service = new ScaledService { Name = "tasks", Deployment = "tasks", Share = 0.5m, RpsPerPod = 500, MinReplicas = 2, MaxReplicas = 200, CpuTargetPercent = 65, RpsMetric = new RpsMetric { Name = "http_requests_per_second", TargetUtilizationPercent = 75 } };

        var hpa = HorizontalPodAutoscalerFactory.Build(policy, service, ReplicaArithmetic.Compute(100_000, 20, service));

        Assert.Equal((2, 120), (hpa.Spec.MinReplicas!.Value, hpa.Spec.MaxReplicas));
        Assert.Equal(65, hpa.Spec.Metrics[0].Resource.Target.AverageUtilization);
        Assert.Equal("375", hpa.Spec.Metrics[1].Pods.Target.AverageValue.ToString());
        Assert.Equal(0, hpa.Spec.Behavior.ScaleUp.StabilizationWindowSeconds);
        Assert.Equal(300, hpa.Spec.Behavior.ScaleDown.StabilizationWindowSeconds);
        Assert.Equal("u", hpa.Metadata.OwnerReferences[0].Uid);
    }
}
