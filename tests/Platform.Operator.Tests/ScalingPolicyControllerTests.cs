using System.Text.Json.Nodes;
using Platform.Operator.Tests.Emulator;
using Platform.Testing;
using static Platform.Operator.Tests.Emulator.EmulatorClient;

namespace Platform.Operator.Tests;

/// <summary>The ScalingPolicy controller in the real operator host, against the emulator.</summary>
public sealed class ScalingPolicyControllerTests : IAsyncLifetime
{
    private const string Controller = "scalingpolicy";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private ApiServerEmulator emulator = null!;
    private OperatorUnderTest operatorInstance = null!;

    public async Task InitializeAsync()
    {
        emulator = await ApiServerEmulator.StartAsync();
        operatorInstance = await OperatorUnderTest.StartAsync(emulator, "operator-0", resyncSeconds: 600);
    }

    public async Task DisposeAsync()
    {
        await operatorInstance.DisposeAsync();
        await emulator.DisposeAsync();
    }

    private Task<JsonObject?> PolicyAsync(Func<JsonObject?, bool> done, string what) =>
        Poll.UntilAsync(() => Task.FromResult(emulator.Find(Policies, "platform")), done, Deadline, what);

    /// <summary>
    /// Deployments and policies arrive on separate watches, so the policy may be reconciled before the operator
    /// has seen the deployments created just before it and report them missing for a moment; the deployments'
    /// events wake it again. The test waits for the state it converges to.
    /// </summary>
    [Fact]
    public async Task Each_service_gets_an_owned_autoscaler_with_its_bounds_and_missing_deployments_and_shortfalls_are_reported()
    {
        emulator.Put(Deployments, Objects.Deployment("tasks"));
        emulator.Put(Deployments, Objects.Deployment("files"));
        emulator.Put(Policies, Objects.Policy("platform", 100_000, ("tasks", 0.5m, 500, 2, 200), ("files", 0.2m, 100, 2, 150), ("search", 0.1m, 100, 1, 10)));

        var policy = await PolicyAsync(
            p => Objects.Status(p, "observedGeneration") == "1" && Objects.ConditionMessage(p, "TargetMissing") == "No autoscaler for search until the deployment exists.",
            "the policy's status naming only search as missing");

        var tasks = emulator.Find(Autoscalers, "tasks")!;
        Assert.Equal(120, tasks["spec"]!["maxReplicas"]!.GetValue<int>());
        Assert.Equal(2, tasks["spec"]!["minReplicas"]!.GetValue<int>());
        Assert.Equal(policy!["metadata"]!["uid"]!.GetValue<string>(), tasks["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());
        Assert.Equal(150, emulator.Find(Autoscalers, "files")!["spec"]!["maxReplicas"]!.GetValue<int>());
        Assert.Null(emulator.Find(Autoscalers, "search"));
        Assert.Equal("True", Objects.Condition(policy, "TargetMissing"));
        Assert.Equal("False", Objects.Condition(policy, "Ready"));
        Assert.Equal("True", Objects.Condition(policy, "CapacityShortfall"));
        Assert.Equal("3", Objects.Status(policy, "serviceCount"));

        emulator.Put(Deployments, Objects.Deployment("search"));
        await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Autoscalers, "search") is not null), Deadline, "an autoscaler once the deployment exists");
        await PolicyAsync(p => Objects.Condition(p, "Ready") == "True" && Objects.Condition(p, "TargetMissing") == "False", "Ready once every deployment exists");
    }

    /// <summary>
    /// An operator that starts (or takes over the lease) where deployments and a policy already exist reconciles
    /// only after every informer has listed: its first status is right, never a passing "TargetMissing".
    /// </summary>
    [Fact]
    public async Task A_starting_operator_reconciles_only_once_it_has_listed_the_deployments()
    {
        await operatorInstance.DisposeAsync();
        emulator.Put(Deployments, Objects.Deployment("tasks"));
        emulator.Put(Deployments, Objects.Deployment("files"));
        emulator.Put(Policies, Objects.Policy("platform", 100_000, ("tasks", 0.5m, 500, 2, 200), ("files", 0.2m, 100, 2, 150)));
        operatorInstance = await OperatorUnderTest.StartAsync(emulator, "operator-0", resyncSeconds: 600);

        await PolicyAsync(p => Objects.Condition(p, "Ready") == "True", "Ready");

        Assert.NotNull(emulator.Find(Autoscalers, "tasks"));
        Assert.NotNull(emulator.Find(Autoscalers, "files"));
        var statuses = emulator.Writes.Where(w => w.Collection == Policies && w.Verb == "MODIFIED").ToList();
        Assert.NotEmpty(statuses);
        Assert.All(statuses, w => Assert.Equal("False", Objects.Condition(w.Snapshot, "TargetMissing")));
    }

    [Fact]
    public async Task An_edited_autoscaler_is_corrected()
    {
        emulator.Put(Deployments, Objects.Deployment("tasks"));
        emulator.Put(Policies, Objects.Policy("platform", 100_000, ("tasks", 0.5m, 500, 2, 200)));
        await PolicyAsync(p => Objects.Condition(p, "Ready") == "True", "Ready");

        var edited = emulator.Find(Autoscalers, "tasks")!;
        edited["spec"]!["maxReplicas"] = 5;
        emulator.Put(Autoscalers, edited);

        await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Autoscalers, "tasks")!["spec"]!["maxReplicas"]!.GetValue<int>() == 120), Deadline, "drift corrected");
        Assert.Single(emulator.Writes, w => w.Collection == Autoscalers && w.Verb == "ADDED");
    }

    /// <summary>
    /// After the HPA's status changes, a second owned HPA (of another, absent policy) changes its spec: the
    /// watch delivers both in order, so once that second reconcile is counted, a reconcile of "platform"
    /// woken by the status would already have copied currentReplicas into the policy's status.
    /// </summary>
    [Fact]
    public async Task An_autoscaler_status_change_does_not_wake_the_controller()
    {
        emulator.Put(Deployments, Objects.Deployment("tasks"));
        emulator.Put(Policies, Objects.Policy("platform", 100_000, ("tasks", 0.5m, 500, 2, 200)));
        await PolicyAsync(p => Objects.Condition(p, "Ready") == "True", "Ready");
        var reconciles = await operatorInstance.ReconcileCountAsync(Controller);

        var withStatus = emulator.Find(Autoscalers, "tasks")!;
        withStatus["status"] = new JsonObject { ["currentReplicas"] = 7, ["desiredReplicas"] = 9 };
        emulator.Put(Autoscalers, withStatus);
        var marker = emulator.Find(Autoscalers, "tasks")!.DeepClone().AsObject();
        marker["metadata"] = new JsonObject
        {
            ["name"] = "marker",
            ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "platform-operator" },
            ["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "platform.dev/v1alpha1", ["kind"] = "ScalingPolicy", ["name"] = "absent", ["uid"] = "absent", ["controller"] = true }),
        };
        emulator.Put(Autoscalers, marker);

        await operatorInstance.WaitForReconcileAsync(Controller, reconciles, emulator, Deadline, "the marker's reconcile");
        Assert.DoesNotContain("currentReplicas", emulator.Find(Policies, "platform")!["status"]!.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Each reconcile is woken by a new owned HPA that only names the policy as its owner, so nothing the
    /// reconcile reads has changed; the second one runs after the first has caught up with the operator's writes.
    /// </summary>
    [Fact]
    public async Task A_reconcile_of_an_unchanged_policy_reads_the_informers_cache_and_gets_nothing()
    {
        emulator.Put(Deployments, Objects.Deployment("tasks"));
        emulator.Put(Policies, Objects.Policy("platform", 100_000, ("tasks", 0.5m, 500, 2, 200)));
        await PolicyAsync(p => Objects.Condition(p, "Ready") == "True", "Ready");
        await WakeWithOwnedAutoscalerAsync("wake-1");
        var before = emulator.Requests.Count;

        await WakeWithOwnedAutoscalerAsync("wake-2");

        var requests = emulator.Requests.Skip(before).ToList();
        Assert.DoesNotContain(requests, r => r.Verb is "get" or "list" && r.Collection is Policies or Autoscalers or Deployments);
        Assert.DoesNotContain(requests, r => r.Verb is not ("get" or "list" or "watch") && r.Collection != Leases);
    }

    private async Task WakeWithOwnedAutoscalerAsync(string name)
    {
        var reconciles = await operatorInstance.ReconcileCountAsync(Controller);
        var policy = emulator.Find(Policies, "platform")!;
        var wake = emulator.Find(Autoscalers, "tasks")!.DeepClone().AsObject();
        wake["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "platform-operator" },
            ["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "platform.dev/v1alpha1", ["kind"] = "ScalingPolicy", ["name"] = "platform",
                ["uid"] = policy["metadata"]!["uid"]!.GetValue<string>(), ["controller"] = true,
            }),
        };
        emulator.Put(Autoscalers, wake);
        await operatorInstance.WaitForReconcileAsync(Controller, reconciles, emulator, Deadline, $"the reconcile woken by {name}");
    }

    [Fact]
    public async Task A_service_removed_from_the_policy_loses_its_autoscaler()
    {
        emulator.Put(Deployments, Objects.Deployment("tasks"));
        emulator.Put(Deployments, Objects.Deployment("files"));
        emulator.Put(Policies, Objects.Policy("platform", 1000, ("tasks", 0.5m, 100, 1, 10), ("files", 0.5m, 100, 1, 10)));
        await Poll.UntilAsync(() => Task.FromResult(emulator.List(Autoscalers).Count == 2), Deadline, "two autoscalers");

        emulator.Put(Policies, Objects.Policy("platform", 1000, ("tasks", 0.5m, 100, 1, 10)));

        await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Autoscalers, "files") is null), Deadline, "the files autoscaler deleted");
        Assert.NotNull(emulator.Find(Autoscalers, "tasks"));
    }
}
