using System.Text.Json.Nodes;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>
/// The operator chart as rendered: its Role is exactly what the operator's code calls (the end-to-end test in
/// Platform.Operator.Tests runs the real operator under it), and its PDB, NetworkPolicy and ServiceMonitor are
/// safe to install on any cluster.
/// </summary>
public sealed class OperatorChartTests
{
    [Fact]
    public async Task The_operator_role_grants_exactly_the_contracted_verbs_in_its_namespace_only()
    {
        var manifests = await TemplateAsync();

        Assert.Empty(manifests.OfKind("ClusterRole"));
        Assert.Empty(manifests.OfKind("ClusterRoleBinding"));
        Assert.Equal(new Dictionary<string, string>
        {
            ["/secrets[platform-signing-keys]"] = "get,list,watch,update,delete",
            ["/secrets"] = "create",
            ["/pods"] = "list",
            ["apps/deployments"] = "list,watch",
            ["autoscaling/horizontalpodautoscalers"] = "list,watch,create,patch,delete",
            ["coordination.k8s.io/leases"] = "get,create,update",
            ["events.k8s.io/events"] = "create",
            ["platform.dev/signingkeyrotations"] = "get,list,watch",
            ["platform.dev/scalingpolicies"] = "get,list,watch",
            ["platform.dev/signingkeyrotations/status"] = "update",
            ["platform.dev/scalingpolicies/status"] = "update",
            ["platform.dev/scalingpolicies/finalizers"] = "update",
        }, RulesOf(Assert.Single(manifests.OfKind("Role"))));
        Assert.Equal(2L, (long)Assert.Single(manifests.OfKind("Deployment"))["spec"]!["replicas"]!);
    }

    /// <summary>
    /// keysetSecrets names the only Secrets the operator may read and write: the Role's resourceNames and the
    /// operator's Operator__KeysetSecrets come from it alike.
    /// </summary>
    [Fact]
    public async Task The_operator_reaches_only_the_keyset_secrets_its_values_name()
    {
        var manifests = await TemplateAsync("--set", "keysetSecrets={blue-signing-keys,green-signing-keys}");

        Assert.Equal("get,list,watch,update,delete", RulesOf(Assert.Single(manifests.OfKind("Role"))).GetValueOrDefault("/secrets[blue-signing-keys,green-signing-keys]"));
        var env = manifests.OfKind("Deployment").Single()["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray();
        Assert.Equal("blue-signing-keys,green-signing-keys", (string)env.Single(e => (string)e!["name"]! == "Operator__KeysetSecrets")!["value"]!);
    }

    /// <summary>
    /// RBAC grants create on Secrets without names; the chart's ValidatingAdmissionPolicy narrows it, for the operator's
    /// own ServiceAccount only and in its release's namespace only, to the keysetSecrets as type Opaque (the operator
    /// under it: Platform.Operator.Tests' DeployedOperatorTests, whose emulator evaluates its CEL). Left out on request,
    /// and on Kubernetes before 1.30, which does not serve the kind; kept on by values of a release before the setting.
    /// </summary>
    [Fact]
    public async Task The_admission_policy_lets_the_operators_service_account_create_only_the_keyset_secrets()
    {
        var manifests = await TemplateAsync("--set", "keysetSecrets={blue-signing-keys,green-signing-keys}");

        var policy = Assert.Single(manifests.OfKind("ValidatingAdmissionPolicy"));
        var binding = Assert.Single(manifests.OfKind("ValidatingAdmissionPolicyBinding"));
        var account = (string)manifests.OfKind("Deployment").Single()["spec"]!["template"]!["spec"]!["serviceAccountName"]!;
        Assert.Null(policy["metadata"]!["namespace"]);
        Assert.Equal((string)policy["metadata"]!["name"]!, (string)binding["spec"]!["policyName"]!);
        Assert.Equal("Fail", (string)policy["spec"]!["failurePolicy"]!);
        Assert.Equal($"request.userInfo.username == \"system:serviceaccount:platform:{account}\"", (string)policy["spec"]!["matchConditions"]![0]!["expression"]!);
        Assert.Equal(["object.metadata.name in [\"blue-signing-keys\",\"green-signing-keys\"]", "object.type == 'Opaque'"],
            policy["spec"]!["validations"]!.AsArray().Select(v => (string)v!["expression"]!));
        Assert.Equal("[\"Deny\"]", binding["spec"]!["validationActions"]!.ToJsonString());
        Assert.Equal("platform", (string)binding["spec"]!["matchResources"]!["namespaceSelector"]!["matchLabels"]!["kubernetes.io/metadata.name"]!);

        Assert.DoesNotContain(await TemplateAsync("--set", "admissionPolicy.create=false"), m => ((string)m["kind"]!).StartsWith("ValidatingAdmissionPolicy", StringComparison.Ordinal));
        Assert.DoesNotContain(await TemplateAsync("--kube-version", "1.29.9"), m => ((string)m["kind"]!).StartsWith("ValidatingAdmissionPolicy", StringComparison.Ordinal));
        Assert.Equal(2, (await TemplateAsync("--kube-version", "1.30.0")).Count(m => ((string)m["kind"]!).StartsWith("ValidatingAdmissionPolicy", StringComparison.Ordinal)));
        // `helm upgrade --reuse-values` from a release before the value: the old values, without admissionPolicy.
        Assert.Equal(2, (await TemplateAsync("--set", "admissionPolicy=null")).Count(m => ((string)m["kind"]!).StartsWith("ValidatingAdmissionPolicy", StringComparison.Ordinal)));
    }

    /// <summary>
    /// The HPAs' owner references set blockOwnerDeletion on their ScalingPolicy; the OwnerReferencesPermissionEnforcement
    /// admission plugin refuses that without update on the owner's finalizers subresource. The keyset Secret has no
    /// owner (the keys outlive their SigningKeyRotation): the rotations' finalizers are not granted, and delete on
    /// Secrets only on the keyset Secrets by name (removing an earlier operator's owner reference asks for it).
    /// </summary>
    [Fact]
    public async Task The_operator_may_block_the_deletion_of_the_policies_that_own_its_autoscalers_and_nothing_more()
    {
        var rules = RulesOf(Assert.Single((await TemplateAsync()).OfKind("Role")));

        Assert.Equal("update", rules.GetValueOrDefault("platform.dev/scalingpolicies/finalizers"));
        Assert.Null(rules.GetValueOrDefault("platform.dev/signingkeyrotations/finalizers"));
        Assert.Equal("create", rules["/secrets"]);
    }

    [Fact]
    public async Task The_operator_budget_lets_a_node_drain_evict_a_single_replica()
    {
        var budget = Assert.Single((await TemplateAsync("--set", "replicaCount=1")).OfKind("PodDisruptionBudget"));

        Assert.Null(budget["spec"]!["minAvailable"]);
        Assert.Equal(1L, (long)budget["spec"]!["maxUnavailable"]!);
    }

    [Fact]
    public async Task The_operator_network_policy_is_optional_and_admits_only_the_metrics_port()
    {
        Assert.Empty((await TemplateAsync()).OfKind("NetworkPolicy"));

        var policy = Assert.Single((await TemplateAsync("--set", "networkPolicy.enabled=true", "--set", "networkPolicy.apiServer.cidrs={172.18.0.2/32}"))
            .OfKind("NetworkPolicy"))["spec"]!;

        Assert.Equal(["Ingress", "Egress"], policy["policyTypes"]!.AsArray().Select(t => (string)t!));
        Assert.Equal("platform-operator", (string)policy["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"]!);
        var ingress = Assert.Single(policy["ingress"]!.AsArray())!;
        Assert.Equal(["http/TCP"], PortsOf(ingress));
        var egress = policy["egress"]!.AsArray().Select(rule => rule!).ToList();
        Assert.Equal(3, egress.Count);
        Assert.Equal(["53/UDP", "53/TCP"], PortsOf(egress[0]));
        Assert.Equal("kube-dns", (string)egress[0]["to"]![0]!["podSelector"]!["matchLabels"]!["k8s-app"]!);
        Assert.Equal(["443/TCP", "6443/TCP"], PortsOf(egress[1]));
        Assert.Equal("172.18.0.2/32", (string)egress[1]["to"]![0]!["ipBlock"]!["cidr"]!);
        Assert.Equal(["8080/TCP"], PortsOf(egress[2]));
        Assert.Equal("auth", (string)egress[2]["to"]![0]!["podSelector"]!["matchLabels"]!["app.kubernetes.io/name"]!);
    }

    [Fact]
    public async Task The_operator_network_policy_values_are_checked_by_the_schema()
    {
        var result = await ShellCommand.RunAsync("helm", ["template", "platform", Repo.OperatorChart, "--set", "global.imageRegistry=registry.example.com/platform",
            "--set-string", "networkPolicy.enabled=yes"], environment: null, TimeSpan.FromMinutes(2));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("networkPolicy", result.Output, StringComparison.Ordinal);
    }

    /// <summary>Nobody publishes the operator's image: without a registry the install would end in ImagePullBackOff.</summary>
    [Fact]
    public async Task The_operator_image_comes_from_the_registry_it_was_pushed_to_or_the_render_says_how_to_push_it()
    {
        var unpublished = await ShellCommand.RunAsync("helm", ["template", "platform", Repo.OperatorChart], environment: null, TimeSpan.FromMinutes(2));
        var pushed = await TemplateAsync("--set", "global.imageTag=abc123");
        var kind = await Helm.TemplateAsync(Repo.OperatorChart, "-f", Path.Combine(Repo.OperatorChart, "values-kind.yaml"));

        Assert.NotEqual(0, unpublished.ExitCode);
        Assert.Contains("make push REGISTRY=", unpublished.Output, StringComparison.Ordinal);
        Assert.Equal("registry.example.com/platform/platform-operator:abc123", Image(pushed));
        Assert.Equal("platform-operator:dev", Image(kind));
    }

    private static string Image(IReadOnlyList<JsonNode> manifests) =>
        (string)manifests.OfKind("Deployment").Single()["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!;

    /// <summary>A ServiceMonitor on a cluster without the Prometheus Operator's CRDs would fail the whole install.</summary>
    [Fact]
    public async Task The_operator_service_monitor_is_rendered_only_where_the_cluster_serves_it()
    {
        Assert.Empty((await TemplateAsync("--set", "metrics.serviceMonitor.enabled=true")).OfKind("ServiceMonitor"));
        Assert.Single((await TemplateAsync("--set", "metrics.serviceMonitor.enabled=true", "--api-versions", "monitoring.coreos.com/v1")).OfKind("ServiceMonitor"));
        Assert.Empty((await TemplateAsync("--api-versions", "monitoring.coreos.com/v1")).OfKind("ServiceMonitor"));
    }

    /// <summary>The operator chart rendered with its image in a registry, as a user must give one (later arguments win).</summary>
    private static Task<IReadOnlyList<JsonNode>> TemplateAsync(params string[] arguments) =>
        Helm.TemplateAsync(Repo.OperatorChart, ["--set", "global.imageRegistry=registry.example.com/platform", .. arguments]);

    /// <summary>"group/resource[/subresource]" (then "[name,name]" when the rule has resourceNames) → "verb,verb", one entry per resource of each rule.</summary>
    private static Dictionary<string, string> RulesOf(JsonNode role) =>
        role["rules"]!.AsArray()
            .SelectMany(rule => rule!["resources"]!.AsArray().Select(resource =>
                (Key: $"{rule["apiGroups"]![0]}/{resource}{(rule["resourceNames"] is JsonArray names ? $"[{string.Join(',', names.Select(n => (string)n!))}]" : "")}",
                 Verbs: string.Join(',', rule["verbs"]!.AsArray().Select(v => (string)v!)))))
            .ToDictionary(r => r.Key, r => r.Verbs);

    private static IEnumerable<string> PortsOf(JsonNode rule) =>
        rule["ports"]!.AsArray().Select(port => $"{port!["port"]}/{port["protocol"]}");
}
