using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Platform.Operator.Kubernetes;
using Platform.Operator.Tests.Emulator;
using Platform.Testing;

namespace Platform.Operator.Tests.Deployed;

/// <summary>
/// Issue 14 §3: the operator as shipped — its built binary, its chart's args, env, CRDs and Role — does its job
/// against the platform chart's resources and real auth processes, and its Role is exactly what it needs: every
/// granted verb is used (the reads a lagging watch calls for, when the run needs them), and without any one of the
/// others it is refused and the resource never appears. Of the namespace's Secrets it can reach only its keyset.
/// </summary>
public sealed class DeployedOperatorTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task The_operator_as_its_chart_deploys_it_rotates_the_keys_auth_loads_and_owns_the_hpas_using_exactly_its_role()
    {
        await using var deployed = await DeployedOperator.StartAsync();
        await using var auth = AuthPods.Start(deployed, count: 2);
        var emulator = deployed.Emulator;

        var secret = await WaitAsync(() => Task.FromResult(emulator.Find(EmulatorClient.Secrets, deployed.SecretName)), s => s is not null,
            "the keyset Secret", deployed.Diagnostics);
        Assert.Null(secret!["metadata"]!["ownerReferences"]); // the keys outlive their rotation
        // As an operator before this one wrote it: the rotation as owner. Removing that reference is an update that
        // OwnerReferencesPermissionEnforcement allows only with delete on the Secret, which the Role grants by name.
        var rotation = emulator.Find(EmulatorClient.Rotations, deployed.Rotation.Name())!;
        secret["metadata"]!["ownerReferences"] = new JsonArray(new JsonObject
        {
            ["apiVersion"] = "platform.dev/v1alpha1", ["kind"] = "SigningKeyRotation", ["name"] = rotation.Name(),
            ["uid"] = rotation["metadata"]!["uid"]!.GetValue<string>(), ["controller"] = true, ["blockOwnerDeletion"] = true,
        });
        emulator.Put(EmulatorClient.Secrets, secret);
        await WaitAsync(() => Task.FromResult(emulator.Find(EmulatorClient.Secrets, deployed.SecretName)), s => s?["metadata"]?["ownerReferences"] is null,
            "the old owner reference removed from the keyset Secret", deployed.Diagnostics);

        var firstKid = await StatusAsync(deployed, "activeKid", kid => kid is not null, "a first active key");
        await WaitAsync(() => auth.AllAsync(report => Kid(report, "activeKid") == firstKid), loaded => loaded,
            $"every auth pod signing with {firstKid}", auth.Diagnostics);

        var nextKid = await StatusAsync(deployed, "nextKid", kid => kid is not null, "the next key published");
        await WaitAsync(() => auth.AllAsync(report => report.GetProperty("kids").EnumerateArray().Any(k => k.GetString() == nextKid)), loaded => loaded,
            $"every auth pod publishing {nextKid}", auth.Diagnostics);
        await StatusAsync(deployed, "activeKid", kid => kid == nextKid, $"{nextKid} activated");
        await WaitAsync(() => auth.AllAsync(report => Kid(report, "activeKid") == nextKid), loaded => loaded,
            $"every auth pod signing with {nextKid}", auth.Diagnostics);
        Assert.Empty(emulator.Find(EmulatorClient.Rotations, deployed.Rotation.Name())!["status"]!["laggingPods"]?.AsArray() ?? []);

        var policy = emulator.Find(EmulatorClient.Policies, deployed.Policy.Name())!;
        var deployments = policy["spec"]!["services"]!.AsArray().Select(s => s!["deployment"]!.GetValue<string>()).ToList();
        foreach (var deployment in deployments)
        {
            var autoscaler = await WaitAsync(() => Task.FromResult(emulator.Find(EmulatorClient.Autoscalers, deployment)), a => a is not null,
                $"the HPA of {deployment}", deployed.Diagnostics);
            AssertOwnedBy(policy, autoscaler!);
            Assert.Equal(deployment, autoscaler!["spec"]!["scaleTargetRef"]!["name"]!.GetValue<string>());
        }

        // A service leaving the policy takes its HPA with it: the Role's delete on HPAs is used too.
        var smaller = policy.DeepClone().AsObject();
        smaller["spec"]!["services"]!.AsArray().RemoveAt(deployments.Count - 1);
        emulator.Put(EmulatorClient.Policies, smaller);
        await WaitAsync(() => Task.FromResult(emulator.Find(EmulatorClient.Autoscalers, deployments[^1]) is null), removed => removed,
            $"the HPA of {deployments[^1]} removed", deployed.Diagnostics);

        Assert.Empty(emulator.Denials.Select(d => d.Message));
        var granted = Granted(deployed.Role).ToHashSet();
        Assert.Subset(granted, emulator.UsedPermissions.ToHashSet());
        Assert.Empty(granted.Except(emulator.UsedPermissions).Except(ReadsWhileTheWatchLags).Order());
        // Every Secret request but the create named the keyset Secret: get and update by path, list and watch by field selector.
        Assert.All(emulator.Requests.Where(r => r.Collection == EmulatorClient.Secrets && r.Verb != "create"), r => Assert.Equal(deployed.SecretName, r.Name));
    }

    /// <summary>
    /// The namespace holds the data tier's passwords. Under the rendered Role the operator's token reads and changes
    /// its keyset Secret and no other: a GET, an update or a list of another Secret is a 403, and so is any list or
    /// watch that does not name its Secret by field selector. The operator never asks: a SigningKeyRotation naming the
    /// database's Secret is refused with a condition, without a single 403.
    /// </summary>
    [Fact]
    public async Task Under_its_role_the_operator_reaches_no_secret_but_its_keyset_and_refuses_a_rotation_naming_another()
    {
        await using var deployed = await DeployedOperator.StartAsync();
        var emulator = deployed.Emulator;
        var others = deployed.Platform.OfKind("Secret").Select(s => s.Name()).ToList();
        Assert.Contains(others, name => name.Contains("postgresql", StringComparison.Ordinal));
        Assert.DoesNotContain(deployed.SecretName, others);
        await WaitAsync(() => Task.FromResult(emulator.Find(EmulatorClient.Secrets, deployed.SecretName)), s => s is not null, "the keyset Secret", deployed.Diagnostics);

        var rogue = deployed.Rotation.DeepClone().AsObject();
        rogue["metadata"] = new JsonObject { ["name"] = "rogue" };
        rogue["spec"]!["secretName"] = others[0];
        emulator.Put(EmulatorClient.Rotations, rogue);

        var refused = await WaitAsync(() => Task.FromResult(emulator.Find(EmulatorClient.Rotations, "rogue")),
            r => Objects.ConditionReason(r, "Ready") == "SecretNotAllowed", "the rotation naming another Secret refused", deployed.Diagnostics);
        Assert.Contains(deployed.SecretName, Objects.ConditionMessage(refused, "Degraded"), StringComparison.Ordinal);
        Assert.Empty(emulator.Denials.Select(d => d.Message));
        Assert.DoesNotContain(emulator.Requests, r => r.Collection == EmulatorClient.Secrets && r.Verb != "create" && r.Name != deployed.SecretName);

        // What a compromised operator pod could do with its token.
        using var asOperator = new KubernetesApi(new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString(), AccessToken = deployed.Token },
            Charts.Namespace, TimeSpan.FromSeconds(5));
        var none = CancellationToken.None;
        var own = await asOperator.GetAsync<V1Secret>(deployed.SecretName, none);
        Assert.Equal([deployed.SecretName], (await asOperator.ListAsync<V1Secret>(null, $"metadata.name={deployed.SecretName}", none)).Items.Select(s => s.Metadata.Name));
        foreach (var other in others)
        {
            await Assert.ThrowsAsync<ForbiddenException>(() => asOperator.GetAsync<V1Secret>(other, none));
            await Assert.ThrowsAsync<ForbiddenException>(() => asOperator.ListAsync<V1Secret>(null, $"metadata.name={other}", none));
            await Assert.ThrowsAsync<ForbiddenException>(() => asOperator.ReplaceAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = other }, StringData = new Dictionary<string, string> { ["password"] = "mine" } }, none));
        }
        await Assert.ThrowsAsync<ForbiddenException>(() => asOperator.ListAsync<V1Secret>(null, none));
        await Assert.ThrowsAsync<ForbiddenException>(() => asOperator.ListAsync<V1Secret>($"app.kubernetes.io/instance={Charts.Release}", none));
        await Assert.ThrowsAsync<ForbiddenException>(() => asOperator.ListAsync<V1Secret>(null, $"metadata.name!={deployed.SecretName}", none));
        await Assert.ThrowsAsync<ForbiddenException>(async () =>
        {
            await foreach (var unused in asOperator.WatchAsync<V1Secret>(null, own.Metadata.ResourceVersion, none))
            {
                Assert.Fail("a watch of every Secret must be refused");
            }
        });
        Assert.Contains(emulator.Denials, d => d.Request is { Verb: "get", Resource: "secrets" } && d.Request.Name == others[0]);
        Assert.Contains(emulator.Denials, d => d.Request is { Verb: "list", Resource: "secrets", Name: null });
    }

    /// <summary>
    /// RBAC cannot name what a create makes, so the operator's Role grants create on every Secret, and delete on its
    /// keyset: with that, its token could re-create the keyset as a ServiceAccount token Secret, which the token
    /// controller fills with a token the operator may then read. The chart's ValidatingAdmissionPolicy refuses any
    /// Secret the operator creates but its keyset as type Opaque, and the operator under it still writes its keyset.
    /// </summary>
    [Fact]
    public async Task The_chart_s_admission_policy_lets_the_operator_create_only_its_keyset_secret_as_opaque()
    {
        await using var deployed = await DeployedOperator.StartAsync();
        var emulator = deployed.Emulator;
        Assert.Equal(1, emulator.Admission!.Count);
        await WaitAsync(() => Task.FromResult(emulator.Find(EmulatorClient.Secrets, deployed.SecretName)), s => s is not null, "the keyset Secret", deployed.Diagnostics);
        Assert.Empty(emulator.Refusals);

        using var asOperator = new KubernetesApi(new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString(), AccessToken = deployed.Token },
            Charts.Namespace, TimeSpan.FromSeconds(5));
        var none = CancellationToken.None;
        var elsewhere = await Assert.ThrowsAsync<ForbiddenException>(() => asOperator.CreateAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "planted" } }, none));
        Assert.Contains("may create only its keyset Secrets (keysetSecrets: platform-signing-keys), not planted", elsewhere.Message, StringComparison.Ordinal);
        await asOperator.DeleteAsync<V1Secret>(deployed.SecretName, none);
        var tokenSecret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = deployed.SecretName, Annotations = new Dictionary<string, string> { ["kubernetes.io/service-account.name"] = "default" } },
            Type = "kubernetes.io/service-account-token",
        };
        var token = await Assert.ThrowsAsync<ForbiddenException>(() => asOperator.CreateAsync(tokenSecret, none));
        Assert.Contains("creates its keyset Secrets as type Opaque only, not kubernetes.io/service-account-token", token.Message, StringComparison.Ordinal);
        Assert.Null(emulator.Find(EmulatorClient.Secrets, "planted"));
        Assert.Empty(emulator.Denials);

        // The operator writes its keyset again, and the policy lets it.
        var rewritten = await WaitAsync(() => Task.FromResult(emulator.Find(EmulatorClient.Secrets, deployed.SecretName)), s => s is not null, "the keyset Secret written again", deployed.Diagnostics);
        Assert.Equal(2, emulator.Refusals.Count);
        Assert.Equal("Opaque", rewritten!["type"]!.GetValue<string>());

        // RBAC alone would have allowed it: the policy is what refuses.
        emulator.Admission = null;
        await asOperator.CreateAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "planted" } }, none);
        Assert.NotNull(emulator.Find(EmulatorClient.Secrets, "planted"));
    }

    /// <summary>
    /// Granted, but called only when a reconcile runs before the informer has seen the operator's own last write of
    /// that object (the controllers read their caches otherwise; docs/architecture.md §5.1), or, for the keyset
    /// Secret, while its informer does not hold it (before the first write): a run may or may not need them.
    /// </summary>
    private static readonly string[] ReadsWhileTheWatchLags =
        ["platform.dev/signingkeyrotations:get", "platform.dev/scalingpolicies:get", "/secrets:get"];

    /// <summary>
    /// A Role without one of these verbs must fail the deployment: the emulator answers 403 and the resource never
    /// appears. On Secrets, list is granted by name (resourceNames) and create by a rule of its own.
    /// </summary>
    [Theory]
    [InlineData("", "secrets", "create", "secret")]
    [InlineData("", "secrets", "list", "secret")]
    [InlineData("", "pods", "list", "secret")]
    [InlineData("platform.dev", "scalingpolicies/finalizers", "update", "autoscalers")]
    [InlineData("autoscaling", "horizontalpodautoscalers", "create", "autoscalers")]
    public async Task Without_one_verb_of_its_role_the_operator_is_refused_and_creates_nothing(string group, string resource, string verb, string missing)
    {
        await using var deployed = await DeployedOperator.StartAsync(role => Revoke(role, group, resource, verb));
        var emulator = deployed.Emulator;

        var denial = await WaitAsync(
            () => Task.FromResult(emulator.Denials.FirstOrDefault(d => d.Request.ApiGroup == group && d.Request.QualifiedResource == resource && d.Request.Verb == verb)),
            d => d is not null, $"a 403 on {verb} {group}/{resource}", deployed.Diagnostics);

        Assert.Contains($"cannot {verb} resource \"{resource}\"", denial!.Message, StringComparison.Ordinal);
        if (missing == "secret")
        {
            Assert.Null(emulator.Find(EmulatorClient.Secrets, deployed.SecretName));
        }
        else
        {
            Assert.Empty(emulator.List(EmulatorClient.Autoscalers));
        }
    }

    private static Task<string?> StatusAsync(DeployedOperator deployed, string field, Func<string?, bool> done, string what) =>
        WaitAsync(() => Task.FromResult(deployed.Emulator.Find(EmulatorClient.Rotations, deployed.Rotation.Name())?["status"]?[field]?.GetValue<string>()),
            done, $"{what} in the SigningKeyRotation's status", deployed.Diagnostics);

    /// <summary><see cref="Poll.UntilAsync{T}"/>, with what the processes said when it times out.</summary>
    private static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, Func<string> diagnostics)
    {
        try
        {
            return await Poll.UntilAsync(probe, done, Deadline, what);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"{exception.Message}\n{diagnostics()}", exception);
        }
    }

    private static string? Kid(JsonElement report, string property) =>
        report.TryGetProperty(property, out var kid) && kid.ValueKind == JsonValueKind.String ? kid.GetString() : null;

    private static void AssertOwnedBy(JsonObject owner, JsonObject owned)
    {
        var reference = Assert.Single(owned["metadata"]!["ownerReferences"]!.AsArray())!;
        Assert.Equal(owner["kind"]!.GetValue<string>(), reference["kind"]!.GetValue<string>());
        Assert.Equal(owner.Name(), reference["name"]!.GetValue<string>());
        Assert.Equal(owner["metadata"]!["uid"]!.GetValue<string>(), reference["uid"]!.GetValue<string>());
        Assert.True(reference["controller"]!.GetValue<bool>());
        Assert.True(reference["blockOwnerDeletion"]!.GetValue<bool>());
    }

    /// <summary>"group/resource:verb" for every verb on every resource the Role's rules grant.</summary>
    private static IEnumerable<string> Granted(JsonObject role) =>
        role["rules"]!.AsArray().SelectMany(rule =>
            from apiGroup in rule!["apiGroups"]!.AsArray()
            from resource in rule["resources"]!.AsArray()
            from verb in rule["verbs"]!.AsArray()
            select $"{apiGroup}/{resource}:{verb}");

    /// <summary>Takes one verb on one resource out of the Role, leaving the rest of the rule that granted it as it was (resourceNames included).</summary>
    private static void Revoke(JsonObject role, string group, string resource, string verb)
    {
        var rules = role["rules"]!.AsArray();
        var rule = rules.Single(r => r!["apiGroups"]!.AsArray().Any(g => g!.GetValue<string>() == group) && r["resources"]!.AsArray().Any(x => x!.GetValue<string>() == resource)
            && r["verbs"]!.AsArray().Any(v => v!.GetValue<string>() == verb))!;
        var resources = rule["resources"]!.AsArray();
        resources.Remove(resources.First(x => x!.GetValue<string>() == resource));
        if (resources.Count == 0)
        {
            rules.Remove(rule);
        }
        var rest = rule["verbs"]!.AsArray().Select(v => v!.GetValue<string>()).Where(v => v != verb).ToArray();
        if (rest.Length > 0)
        {
            var remaining = new JsonObject
            {
                ["apiGroups"] = new JsonArray(group),
                ["resources"] = new JsonArray(resource),
                ["verbs"] = new JsonArray(rest.Select(v => (JsonNode)v).ToArray()),
            };
            if (rule["resourceNames"] is { } names)
            {
                remaining["resourceNames"] = names.DeepClone();
            }
            rules.Add(remaining);
        }
    }
}
