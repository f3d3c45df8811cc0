using System.Text.Json.Nodes;
using Platform.Operator.Tests.Emulator;
using Platform.Testing;
using static Platform.Operator.Tests.Emulator.EmulatorClient;

namespace Platform.Operator.Tests;

/// <summary>The SigningKeyRotation controller in the real operator host, against the emulator, in real (second-scale) time.</summary>
public sealed class SigningKeyRotationControllerTests : IAsyncLifetime
{
    private const string Controller = "signingkeyrotation";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly FakeAuthPods authPods = new();
    private ApiServerEmulator emulator = null!;
    private OperatorUnderTest operatorInstance = null!;

    public async Task InitializeAsync()
    {
        emulator = await ApiServerEmulator.StartAsync();
        operatorInstance = await OperatorUnderTest.StartAsync(emulator, "operator-0", authPods);
    }

    public async Task DisposeAsync()
    {
        await operatorInstance.DisposeAsync();
        await emulator.DisposeAsync();
    }

    private Task<Platform.Contracts.Keys.Keyset?> KeysetAsync(Func<Platform.Contracts.Keys.Keyset?, bool> done, string what) =>
        Poll.UntilAsync(() => Task.FromResult(Objects.KeysetIn(emulator.Find(Secrets, "keyset"))), done, Deadline, what);

    private IEnumerable<string> EventReasons() => emulator.List(Events).Select(e => e["reason"]!.GetValue<string>());

    [Fact]
    public async Task A_new_rotation_gets_a_secret_with_one_active_key_and_a_ready_status()
    {
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset"));

        var keyset = await KeysetAsync(k => k is not null, "the keyset Secret");
        var key = Assert.Single(keyset!.Keys);
        var status = await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys")), r => Objects.Condition(r, "Ready") == "True", Deadline, "Ready");
        Assert.Equal(key.Kid, Objects.Status(status, "activeKid"));
        Assert.Equal("1", Objects.Status(status, "observedGeneration"));
        var secret = emulator.Find(Secrets, "keyset")!;
        Assert.Null(secret["metadata"]!["ownerReferences"]);
        Assert.Equal("platform-operator", secret["metadata"]!["labels"]!["app.kubernetes.io/managed-by"]!.GetValue<string>());
        Assert.Contains("KeyActivated", EventReasons());
    }

    /// <summary>A label put on the Secret wakes the rotation, which finds nothing to do: it reads both from its informers.</summary>
    [Fact]
    public async Task A_reconcile_with_nothing_to_do_reads_the_informers_cache_and_gets_nothing()
    {
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset"));
        await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys")), r => Objects.Condition(r, "Ready") == "True", Deadline, "Ready");
        await WakeWithSecretLabelAsync("1");
        var before = emulator.Requests.Count;

        await WakeWithSecretLabelAsync("2");

        var requests = emulator.Requests.Skip(before).ToList();
        Assert.DoesNotContain(requests, r => r.Verb is "get" or "list" && r.Collection is Rotations or Secrets);
        Assert.DoesNotContain(requests, r => r.Verb is not ("get" or "list" or "watch") && r.Collection != Leases);
    }

    /// <summary>A 90-day period puts the next reconcile further off than one timer can wait (49.7 days): the controller must still answer changes.</summary>
    [Fact]
    public async Task A_rotation_period_longer_than_a_timer_can_wait_leaves_the_controller_answering_changes()
    {
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset", rotationPeriod: "2160h"));
        await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys")), r => Objects.Condition(r, "Ready") == "True", Deadline, "Ready");

        await WakeWithSecretLabelAsync("1");
        emulator.Remove(Secrets, "keyset");

        await KeysetAsync(k => k is not null, "the keyset recreated");
    }

    private async Task WakeWithSecretLabelAsync(string value)
    {
        var reconciles = await operatorInstance.ReconcileCountAsync(Controller);
        var secret = emulator.Find(Secrets, "keyset")!;
        secret["metadata"]!["labels"]!["test.platform.dev/wake"] = value;
        emulator.Put(Secrets, secret);
        await operatorInstance.WaitForReconcileAsync(Controller, reconciles, emulator, Deadline, $"the reconcile woken by label {value}");
    }

    [Fact]
    public async Task The_next_rotation_is_exported_as_a_timestamp_an_alert_can_compare_with_now()
    {
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset"));
        var status = await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys")), r => Objects.Status(r, "nextRotationTime") is not null, Deadline, "a next rotation time");
        var due = DateTimeOffset.Parse(Objects.Status(status, "nextRotationTime")!, System.Globalization.CultureInfo.InvariantCulture);
        using var client = new HttpClient();

        var exported = await Poll.UntilAsync(async () => (await client.GetStringAsync(new Uri(operatorInstance.Address, "/metrics"))).Split('\n')
                .FirstOrDefault(line => line.StartsWith("operator_signing_key_next_rotation_timestamp_seconds{", StringComparison.Ordinal) && line.Contains("keys\"}", StringComparison.Ordinal)),
            line => line is not null, Deadline, "the next rotation in /metrics");

        var value = exported!.Split(' ')[^1];
        Assert.Equal(due.ToUnixTimeSeconds(), double.Parse(value, System.Globalization.CultureInfo.InvariantCulture), 1.0); // the status keeps whole seconds
    }

    [Fact]
    public async Task Keys_rotate_on_schedule_publish_activate_and_retire_with_events()
    {
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset", rotationPeriod: "4s", prePublish: "2s", retireAfter: "3s"));
        var first = (await KeysetAsync(k => k is not null, "the first key"))!.Keys[0].Kid;

        await KeysetAsync(k => k is not null && k.Keys.All(key => key.Kid != first), "the first key removed after its successor activated and it retired");

        // Events are recorded after the Secret is written: under load the test can see the Secret first.
        await Poll.UntilAsync(() => Task.FromResult(EventReasons().Contains("KeyPublished") && EventReasons().Contains("KeyRetired")), Deadline, "the publish and retire events");
        await Poll.UntilAsync(() => Task.FromResult(EventReasons().Count(r => r == "KeyActivated") >= 2), Deadline, "an activation event");
    }

    /// <summary>
    /// Deleting the rotation (an uninstall and reinstall, the chart's rotation turned off and on) leaves the keys: the
    /// emulator garbage-collects owned objects as Kubernetes does, and an owned keyset went with its rotation, taking
    /// every signed token's key. A new rotation adopts the Secret and signs on with the same key.
    /// </summary>
    [Fact]
    public async Task The_keyset_outlives_its_rotation_and_a_new_rotation_adopts_its_keys()
    {
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset"));
        var kid = (await KeysetAsync(k => k is not null, "the keyset"))!.Keys[0].Kid;
        await Poll.UntilAsync(() => Task.FromResult(Objects.Condition(emulator.Find(Rotations, "keys"), "Ready") == "True"), Deadline, "Ready");

        Assert.True(emulator.Remove(Rotations, "keys"));
        Assert.Equal([kid], Objects.KeysetIn(emulator.Find(Secrets, "keyset"))!.Keys.Select(k => k.Kid));

        emulator.Put(Rotations, Objects.Rotation("keys-again", "keyset"));
        var adopted = await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys-again")), r => Objects.Condition(r, "Ready") == "True", Deadline, "the new rotation Ready");
        Assert.Equal(kid, Objects.Status(adopted, "activeKid"));
        Assert.Equal([kid], Objects.KeysetIn(emulator.Find(Secrets, "keyset"))!.Keys.Select(k => k.Kid));
        Assert.DoesNotContain("KeyKeysetRecreated", EventReasons());
    }

    /// <summary>An operator before this one made its rotation the keyset's owner: the next reconcile removes that reference, and only it.</summary>
    [Fact]
    public async Task A_keyset_owned_by_its_rotation_is_set_free_and_survives_the_rotations_deletion()
    {
        var rotation = emulator.Put(Rotations, Objects.Rotation("keys", "keyset"));
        var kid = (await KeysetAsync(k => k is not null, "the keyset"))!.Keys[0].Kid;
        await Poll.UntilAsync(() => Task.FromResult(Objects.Condition(emulator.Find(Rotations, "keys"), "Ready") == "True"), Deadline, "Ready");
        var owned = emulator.Find(Secrets, "keyset")!;
        owned["metadata"]!["ownerReferences"] = new JsonArray(
            new JsonObject { ["apiVersion"] = "platform.dev/v1alpha1", ["kind"] = "SigningKeyRotation", ["name"] = "keys", ["uid"] = rotation["metadata"]!["uid"]!.GetValue<string>(), ["controller"] = true, ["blockOwnerDeletion"] = true },
            new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["name"] = "someone-elses", ["uid"] = "other-uid" });
        emulator.Put(Secrets, owned);

        var freed = await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Secrets, "keyset")),
            s => s?["metadata"]?["ownerReferences"] is JsonArray owners && owners.All(o => o!["kind"]!.GetValue<string>() != "SigningKeyRotation"), Deadline, "the rotation's owner reference removed");
        Assert.Equal("someone-elses", Assert.Single(freed!["metadata"]!["ownerReferences"]!.AsArray())!["name"]!.GetValue<string>());

        emulator.Remove(Rotations, "keys");
        Assert.Equal([kid], Objects.KeysetIn(emulator.Find(Secrets, "keyset"))!.Keys.Select(k => k.Kid));
    }

    [Fact]
    public async Task A_secret_deleted_by_hand_is_recreated_and_an_event_names_the_lost_keys()
    {
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset"));
        var lost = (await KeysetAsync(k => k is not null, "the keyset"))!.Keys[0].Kid;
        await Poll.UntilAsync(() => Task.FromResult(Objects.Status(emulator.Find(Rotations, "keys"), "activeKid") == lost), Deadline, "status naming the key");

        emulator.Remove(Secrets, "keyset");

        await KeysetAsync(k => k is not null && k.Keys[0].Kid != lost, "a recreated keyset");
        var recreated = await Poll.UntilAsync(() => Task.FromResult(emulator.List(Events).FirstOrDefault(e => e["reason"]!.GetValue<string>() == "KeyKeysetRecreated")),
            e => e is not null, Deadline, "a KeysetRecreated event");
        Assert.Contains(lost, recreated!["note"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Warning", recreated["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_spec_violating_the_bounds_is_refused_with_a_condition_and_no_secret()
    {
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset", prePublish: "500ms"));

        var refused = await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys")), r => Objects.ConditionReason(r, "Ready") == "InvalidSpec", Deadline, "InvalidSpec");

        Assert.Equal("True", Objects.Condition(refused, "Degraded"));
        Assert.Null(emulator.Find(Secrets, "keyset"));
    }

    /// <summary>
    /// The operator may touch only the Secrets of Operator:KeysetSecrets (its Role grants no other): a rotation naming
    /// another — here the database's password — is refused with a condition and one Warning Event, and that Secret is
    /// never asked for, rather than failing with 403 on every retry. Naming an allowed Secret then works.
    /// </summary>
    [Fact]
    public async Task A_rotation_naming_a_secret_outside_the_operators_list_is_refused_and_that_secret_never_read()
    {
        emulator.Put(Secrets, new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "postgres-credentials" },
            ["data"] = new System.Text.Json.Nodes.JsonObject { ["password"] = Convert.ToBase64String("superuser"u8.ToArray()) },
        });
        var before = emulator.Find(Secrets, "postgres-credentials")!;
        emulator.Put(Rotations, Objects.Rotation("keys", "postgres-credentials"));

        var refused = await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys")),
            r => Objects.ConditionReason(r, "Ready") == "SecretNotAllowed", Deadline, "SecretNotAllowed");

        Assert.Equal("False", Objects.Condition(refused, "Ready"));
        Assert.Equal("True", Objects.Condition(refused, "Degraded"));
        Assert.Equal("SecretNotAllowed", Objects.ConditionReason(refused, "Progressing"));
        var message = Objects.ConditionMessage(refused, "Degraded")!;
        Assert.Contains("\"postgres-credentials\"", message, StringComparison.Ordinal);
        Assert.Contains("\"keyset\", \"green-keyset\"", message, StringComparison.Ordinal);
        Assert.Contains("keysetSecrets", message, StringComparison.Ordinal);
        Assert.Null(Objects.Status(refused, "activeKid"));
        var warning = await Poll.UntilAsync(() => Task.FromResult(emulator.List(Events).SingleOrDefault(e => e["reason"]!.GetValue<string>() == "SecretNotAllowed")),
            e => e is not null, Deadline, "a SecretNotAllowed event");
        Assert.Equal("Warning", warning!["type"]!.GetValue<string>());
        Assert.DoesNotContain(emulator.Requests, r => r.Collection == Secrets && r.Name == "postgres-credentials");
        Assert.Equal(before.ToJsonString(), emulator.Find(Secrets, "postgres-credentials")!.ToJsonString());

        emulator.Put(Rotations, Objects.Rotation("keys", "keyset"));

        await KeysetAsync(k => k is not null, "the keyset in the allowed Secret once the spec names it");
        await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys")), r => Objects.Condition(r, "Ready") == "True", Deadline, "Ready");
        Assert.Single(emulator.List(Events), e => e["reason"]!.GetValue<string>() == "SecretNotAllowed");
        Assert.DoesNotContain(emulator.Requests, r => r.Collection == Secrets && r.Name == "postgres-credentials");
        Assert.DoesNotContain(emulator.Requests, r => r.Collection == Secrets && r.Verb is "list" or "watch" && r.Name is null);
    }

    [Fact]
    public async Task RotateNow_publishes_a_next_key_and_activation_waits_while_an_auth_pod_lags()
    {
        emulator.Put(Pods, Objects.AuthPod("auth-0"));
        emulator.Put(Pods, Objects.AuthPod("auth-1"));
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset", prePublish: "2s"));
        var first = (await KeysetAsync(k => k is not null, "the keyset"))!.Keys[0].Kid;
        authPods.LoadedVersions["auth-1"] = 0;

        emulator.Put(Rotations, Objects.Rotation("keys", "keyset", prePublish: "2s", rotateNow: "now-please"));

        var lagging = await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys")), r => Objects.Condition(r, "Degraded") == "True", Deadline, "Degraded while auth-1 lags");
        Assert.Contains("auth-1", Objects.Status(lagging, "laggingPods"), StringComparison.Ordinal);
        Assert.DoesNotContain("auth-0", Objects.Status(lagging, "laggingPods"), StringComparison.Ordinal);
        Assert.Equal(first, Objects.Status(lagging, "activeKid"));
        Assert.Contains("KeyActivationPostponed", EventReasons());

        authPods.LoadedVersions.Clear();
        await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys")),
            r => Objects.Status(r, "activeKid") != first && Objects.Condition(r, "Degraded") == "False", Deadline, "the next key active once every pod caught up");
    }

    /// <summary>
    /// A crash-looping auth pod is in phase Running but not ready, answers nothing and serves no one: activation must
    /// not wait for it. Before, it postponed the activation, and rewrote the Secret, every few minutes for ever.
    /// </summary>
    [Fact]
    public async Task Activation_does_not_wait_for_an_auth_pod_that_is_not_ready()
    {
        emulator.Put(Pods, Objects.AuthPod("auth-0"));
        emulator.Put(Pods, Objects.AuthPod("auth-crashing", ready: false));
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset", prePublish: "2s"));
        var first = (await KeysetAsync(k => k is not null, "the keyset"))!.Keys[0].Kid;
        authPods.LoadedVersions["auth-crashing"] = 0;

        emulator.Put(Rotations, Objects.Rotation("keys", "keyset", prePublish: "2s", rotateNow: "now-please"));

        var rotated = await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "keys")),
            r => Objects.Status(r, "activeKid") is { } active && active != first, Deadline, "the next key active although a pod that is not ready lags");
        Assert.Equal("False", Objects.Condition(rotated, "Degraded"));
        Assert.DoesNotContain("KeyActivationPostponed", EventReasons());
    }

    [Fact]
    public async Task Activation_waits_only_for_the_auth_pods_its_selector_names_not_another_releases()
    {
        emulator.Put(Pods, Objects.AuthPod("green-auth-0", release: "green"));
        emulator.Put(Pods, Objects.AuthPod("blue-auth-0", release: "blue"));
        var rotation = Objects.Rotation("green", "green-keyset", prePublish: "2s");
        rotation["spec"]!["authPodSelector"] = new System.Text.Json.Nodes.JsonObject
        {
            ["matchLabels"] = new System.Text.Json.Nodes.JsonObject { ["app.kubernetes.io/name"] = "auth", ["app.kubernetes.io/instance"] = "green" },
        };
        emulator.Put(Rotations, rotation);
        var first = await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "green")), r => Objects.Status(r, "activeKid") is not null, Deadline, "a first key");
        authPods.LoadedVersions["blue-auth-0"] = 0;

        rotation["spec"]!["rotateNow"] = "now";
        emulator.Put(Rotations, rotation);

        var rotated = await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Rotations, "green")),
            r => Objects.Status(r, "activeKid") is { } active && active != Objects.Status(first, "activeKid") && Objects.Condition(r, "Degraded") is not null,
            Deadline, "the next key active although blue's pod lags");
        Assert.Equal("False", Objects.Condition(rotated, "Degraded"));
        Assert.DoesNotContain("blue", Objects.Status(rotated, "laggingPods") ?? "", StringComparison.Ordinal);
    }
}
