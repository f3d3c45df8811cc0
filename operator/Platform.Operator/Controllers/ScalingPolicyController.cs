using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Platform.Operator.Hosting;
using Platform.Operator.Kubernetes;
using Platform.Operator.Resources;
using Platform.Operator.Runtime;
using Platform.Operator.Scaling;

namespace Platform.Operator.Controllers;

/// <summary>
/// One HPA per service of a ScalingPolicy, applied server-side with the operator's field manager, bounds from
/// <see cref="ReplicaArithmetic"/>. An owned HPA whose spec someone changed is applied again (its generation
/// moved); its status changing does not wake the controller — the periodic resync refreshes the reported
/// replica counts instead.
/// </summary>
public sealed class ScalingPolicyController : Controller
{
    private readonly IKubernetesApi api;
    private readonly Informer<ScalingPolicy> policies;
    private readonly Informer<V2HorizontalPodAutoscaler> autoscalers;
    private readonly Informer<V1Deployment> deployments;
    private readonly ConcurrentDictionary<string, string> autoscalerShapes = new(StringComparer.Ordinal);

    public ScalingPolicyController(IKubernetesApi api, OperatorOptions options, TimeProvider clock, OperatorMetrics metrics, ILogger<ScalingPolicyController> logger)
        : base("scalingpolicy", clock, metrics, logger)
    {
        this.api = api;
        var resync = TimeSpan.FromSeconds(options.ResyncSeconds);
        policies = new Informer<ScalingPolicy>(api, null, resync, OnPolicy, clock, logger);
        autoscalers = new Informer<V2HorizontalPodAutoscaler>(api, $"{PlatformGroup.ManagedByLabel}={PlatformGroup.FieldManager}", resync, OnAutoscaler, clock, logger);
        deployments = new Informer<V1Deployment>(api, null, resync, OnDeployment, clock, logger);
    }

    public override IReadOnlyList<Func<(string Name, DateTimeOffset LastContact, bool Synced)>> Watches =>
    [
        () => (policies.Name, policies.LastContact, policies.HasSynced),
        () => (autoscalers.Name, autoscalers.LastContact, autoscalers.HasSynced),
        () => (deployments.Name, deployments.LastContact, deployments.HasSynced),
    ];

    protected override bool InformersSynced => policies.HasSynced && autoscalers.HasSynced && deployments.HasSynced;

    protected override IEnumerable<Task> RunInformers(CancellationToken cancellationToken) =>
        [policies.RunAsync(cancellationToken), autoscalers.RunAsync(cancellationToken), deployments.RunAsync(cancellationToken)];

    private void OnPolicy(WatchEventType type, ScalingPolicy policy)
    {
        if (type != WatchEventType.Modified || policy.Status?.ObservedGeneration != policy.Metadata.Generation)
        {
            Schedule.Add(policy.Metadata.Name);
        }
    }

    /// <summary>
    /// An HPA whose spec, labels or owners changed (someone edited it) brings its policy back; its status, which the
    /// HPA controller rewrites every 15 s, does not. Not by metadata.generation: the API server bumps an HPA's only
    /// behind the HPAGeneration feature gate (alpha in 1.37), so an edit was reverted only at the next resync.
    /// </summary>
    private void OnAutoscaler(WatchEventType type, V2HorizontalPodAutoscaler autoscaler)
    {
        var name = autoscaler.Metadata.Name;
        var shape = ShapeOf(autoscaler);
        var edited = !autoscalerShapes.TryGetValue(name, out var seen) || seen != shape;
        if (type == WatchEventType.Deleted)
        {
            autoscalerShapes.TryRemove(name, out _);
        }
        else
        {
            autoscalerShapes[name] = shape;
        }
        if ((type == WatchEventType.Deleted || edited) && Owner.ControllerName(autoscaler.Metadata, "ScalingPolicy") is { } owner)
        {
            Schedule.Add(owner);
        }
    }

    /// <summary>What <see cref="Matches"/> compares: the spec, the labels and the owners.</summary>
    private static string ShapeOf(V2HorizontalPodAutoscaler autoscaler) =>
        KubernetesJson.Serialize(autoscaler.Spec) + "\n" +
        string.Join(',', (autoscaler.Metadata.Labels ?? new Dictionary<string, string>()).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "\n" +
        string.Join(',', (autoscaler.Metadata.OwnerReferences ?? []).Select(o => o.Uid));

    private void OnDeployment(WatchEventType type, V1Deployment deployment)
    {
        if (type == WatchEventType.Modified)
        {
            return;
        }
        foreach (var policy in policies.Items.Where(p => p.Spec.Services.Any(s => s.Deployment == deployment.Metadata.Name)))
        {
            Schedule.Add(policy.Metadata.Name);
        }
    }

    protected override async Task<DateTimeOffset?> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var policy = await policies.GetAsync(key, cancellationToken);
        if (policy is null)
        {
            return null;
        }
        var services = new List<ScaledServiceStatus>();
        var missing = new List<string>();
        var shortfall = new List<string>();
        foreach (var service in policy.Spec.Services)
        {
            var bounds = ReplicaArithmetic.Compute(policy.Spec.TargetRps, policy.Spec.HeadroomPercent, service);
            if (bounds.Shortfall)
            {
                shortfall.Add($"{service.Name} needs {bounds.ReplicasAtTarget} pods, capped at {service.MaxReplicas}");
            }
            var serviceStatus = new ScaledServiceStatus
            {
                Name = service.Name,
                Deployment = service.Deployment,
                ReplicasAtTarget = bounds.ReplicasAtTarget,
                MinReplicas = bounds.MinReplicas,
                MaxReplicas = bounds.MaxReplicas,
                CapacityRps = bounds.CapacityRps,
            };
            services.Add(serviceStatus);
            if (deployments.Find(service.Deployment) is null)
            {
                missing.Add(service.Deployment);
                continue;
            }
            var desired = HorizontalPodAutoscalerFactory.Build(policy, service, bounds);
            // Read from the cache even right after an apply: a copy that lags it only applies the same fields again, a
            // no-op. An HPA of that name without the operator's label is not in the cache; applying takes it over, as
            // it did when it was read.
            var live = await autoscalers.GetAsync(service.Deployment, cancellationToken);
            if (live is null || !Matches(live, desired))
            {
                live = await api.ApplyAsync(desired, cancellationToken);
            }
            serviceStatus.CurrentReplicas = live.Status?.CurrentReplicas;
            serviceStatus.DesiredReplicas = live.Status?.DesiredReplicas;
        }
        await DeleteOrphansAsync(policy, cancellationToken);
        await UpdateStatusAsync(policy, services, missing, shortfall, cancellationToken);
        return null;
    }

    /// <summary>Whether the live HPA already says what the operator would apply: its spec, and the labels and owner it sets.</summary>
    private static bool Matches(V2HorizontalPodAutoscaler live, V2HorizontalPodAutoscaler desired) =>
        KubernetesJson.Serialize(live.Spec) == KubernetesJson.Serialize(desired.Spec)
        && desired.Metadata.Labels.All(label => live.Metadata.Labels?.TryGetValue(label.Key, out var value) == true && value == label.Value)
        && live.Metadata.OwnerReferences?.Any(o => o.Uid == desired.Metadata.OwnerReferences[0].Uid) == true;

    /// <summary>HPAs of services the policy no longer lists.</summary>
    private async Task DeleteOrphansAsync(ScalingPolicy policy, CancellationToken cancellationToken)
    {
        var wanted = policy.Spec.Services.Select(s => s.Deployment).ToHashSet(StringComparer.Ordinal);
        var owned = autoscalers.Items.Where(h => h.Metadata.Labels?.TryGetValue(HorizontalPodAutoscalerFactory.PolicyLabel, out var owner) == true && owner == policy.Metadata.Name);
        foreach (var orphan in owned.Where(h => !wanted.Contains(h.Metadata.Name)).ToList())
        {
            try
            {
                await api.DeleteAsync<V2HorizontalPodAutoscaler>(orphan.Metadata.Name, cancellationToken);
            }
            catch (NotFoundException)
            {
                // Already gone.
            }
        }
    }

    private async Task UpdateStatusAsync(ScalingPolicy policy, List<ScaledServiceStatus> services, List<string> missing, List<string> shortfall, CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        var generation = policy.Metadata.Generation;
        var previous = policy.Status?.Conditions;
        var conditions = Conditions.Set(previous, "Ready", missing.Count == 0, missing.Count == 0 ? "AutoscalersApplied" : "TargetMissing",
            missing.Count == 0 ? $"{services.Count} autoscalers applied." : $"Deployments missing: {string.Join(", ", missing)}.", generation, now);
        conditions = Conditions.Set(conditions, "TargetMissing", missing.Count > 0, missing.Count > 0 ? "DeploymentNotFound" : "AllTargetsFound",
            missing.Count > 0 ? $"No autoscaler for {string.Join(", ", missing)} until the deployment exists." : "Every deployment exists.", generation, now);
        conditions = Conditions.Set(conditions, "CapacityShortfall", shortfall.Count > 0, shortfall.Count > 0 ? "CapsTooLow" : "CapsSufficient",
            shortfall.Count > 0 ? $"The caps cannot carry {policy.Spec.TargetRps} rps: {string.Join("; ", shortfall)}." : $"The caps carry {policy.Spec.TargetRps} rps.", generation, now);
        var status = new ScalingPolicyStatus { ObservedGeneration = generation, ServiceCount = services.Count, Services = services, Conditions = conditions };
        if (KubernetesJson.Serialize(status) == KubernetesJson.Serialize(policy.Status ?? new ScalingPolicyStatus()))
        {
            return;
        }
        policy.Status = status;
        policies.Wrote(await api.ReplaceStatusAsync(policy, cancellationToken));
    }
}
