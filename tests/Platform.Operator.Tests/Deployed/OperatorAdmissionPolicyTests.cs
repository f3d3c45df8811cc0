using System.Text.Json.Nodes;
using Platform.Operator.Tests.Emulator;

namespace Platform.Operator.Tests.Deployed;

/// <summary>
/// The operator chart's ValidatingAdmissionPolicy as rendered, its CEL evaluated by the emulator's
/// <see cref="AdmissionPolicies"/>: it narrows what the operator's ServiceAccount may create in its release's namespace,
/// and nothing else. With failurePolicy Fail, a policy that matched every user would refuse every Secret of the
/// namespace (Helm's own among them). The operator at work under it: <see cref="DeployedOperatorTests"/>.
/// </summary>
public sealed class OperatorAdmissionPolicyTests
{
    private const string Operator = "system:serviceaccount:platform:platform-platform-operator";

    [Fact]
    public async Task Only_the_operators_own_creates_in_its_namespace_are_narrowed_to_its_keyset_secrets_of_type_opaque()
    {
        var manifests = await Charts.TemplateAsync(Charts.Operator, "--set", "global.imageRegistry=registry.example", "--set", "keysetSecrets={blue-keys,green-keys}");
        var account = manifests.OfKind("Deployment").Single()["spec"]!["template"]!["spec"]!["serviceAccountName"]!.GetValue<string>();
        Assert.Equal(Operator, Rbac.ServiceAccountUser(Charts.Namespace, account));
        var policies = AdmissionPolicies.From(manifests);
        Assert.Equal(1, policies.Count);

        AdmissionPolicies.Refusal? Create(string user, string @namespace, string name, string? type = null) =>
            policies.Check("CREATE", "", "v1", "secrets", null, @namespace, name, user, Secret(name, type), null);

        Assert.Null(Create(Operator, "platform", "blue-keys"));
        Assert.Null(Create(Operator, "platform", "green-keys", "Opaque"));
        Assert.Null(Create(Operator, "platform", "green-keys", ""));
        var planted = Create(Operator, "platform", "planted");
        Assert.Equal(403, planted?.Code);
        Assert.Equal("secrets \"planted\" is forbidden: ValidatingAdmissionPolicy 'platform-platform-operator-platform-keyset-secrets' with binding "
            + "'platform-platform-operator-platform-keyset-secrets' denied request: the operator " + Operator
            + " may create only its keyset Secrets (keysetSecrets: blue-keys, green-keys), not planted", planted!.Message);
        Assert.Contains("as type Opaque only, not kubernetes.io/service-account-token",
            Create(Operator, "platform", "blue-keys", "kubernetes.io/service-account-token")?.Message, StringComparison.Ordinal);
        Assert.Equal(403, Create(Operator, "platform", "blue-keys", "kubernetes.io/dockerconfigjson")?.Code);

        // Other users, and the same name in another namespace, are not the policy's business.
        Assert.Null(Create("system:serviceaccount:platform:helm", "platform", "planted", "kubernetes.io/service-account-token"));
        Assert.Null(Create("admin", "platform", "planted"));
        Assert.Null(Create("system:serviceaccount:other:platform-platform-operator", "platform", "planted"));
        Assert.Null(Create(Operator, "elsewhere", "planted"));
        // Updates are left to RBAC's names (and a Secret's type cannot change); other kinds are not matched.
        Assert.Null(policies.Check("UPDATE", "", "v1", "secrets", null, "platform", "planted", Operator, Secret("planted", null), Secret("planted", null)));
        Assert.Null(policies.Check("CREATE", "", "v1", "configmaps", null, "platform", "planted", Operator, Secret("planted", null), null));
    }

    private static JsonObject Secret(string name, string? type)
    {
        var secret = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = new JsonObject { ["name"] = name } };
        if (type is not null)
        {
            secret["type"] = type;
        }
        return secret;
    }
}
