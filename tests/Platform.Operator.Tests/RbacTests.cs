using System.Text.Json.Nodes;
using Platform.Operator.Tests.Emulator;

namespace Platform.Operator.Tests;

/// <summary>The emulator's RBAC decides as Kubernetes' does, so a Role that passes there grants what a cluster would.</summary>
public sealed class RbacTests
{
    private const string Operator = "system:serviceaccount:platform:operator";

    private static readonly Rbac Policy = Rbac.From(
    [
        Manifest("""
            {"kind": "Role", "metadata": {"name": "operator", "namespace": "platform"}, "rules": [
              {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "create"]},
              {"apiGroups": ["platform.dev"], "resources": ["scalingpolicies/status", "scalingpolicies/finalizers"], "verbs": ["update"]},
              {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "update"], "resourceNames": ["platform-operator"]},
              {"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get"]},
              {"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["get"]},
              {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["*"]}
            ]}
            """),
        Manifest("""
            {"kind": "RoleBinding", "metadata": {"name": "operator", "namespace": "platform"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "operator"},
             "subjects": [{"kind": "ServiceAccount", "name": "operator", "namespace": "platform"}]}
            """),
        Manifest("""{"kind": "Role", "metadata": {"name": "everything", "namespace": "platform"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}"""),
    ], "platform");

    public static TheoryData<string, string, string, string?, string?, string, bool, string> Requests() => new()
    {
        { "get", "", "secrets", null, "keys", "platform", true, "a granted verb" },
        { "list", "", "secrets", null, null, "platform", true, "list, granted" },
        { "watch", "", "secrets", null, null, "platform", false, "watch is not list" },
        { "update", "", "secrets", null, "keys", "platform", false, "a verb not granted" },
        { "get", "", "secrets", null, "keys", "default", false, "another namespace" },
        { "get", "", "pods", null, "auth-0", "platform", false, "another resource" },
        { "get", "batch", "secrets", null, "keys", "platform", false, "the same resource name in another group" },
        { "update", "platform.dev", "scalingpolicies", "status", "p", "platform", true, "a granted subresource" },
        { "update", "platform.dev", "scalingpolicies", "finalizers", "p", "platform", true, "finalizers, granted" },
        { "update", "platform.dev", "scalingpolicies", null, "p", "platform", false, "a subresource grant is not the resource" },
        { "get", "", "secrets", "status", "keys", "platform", true, "*/status matches any status" },
        { "get", "", "secrets", "finalizers", "keys", "platform", false, "*/status matches no other subresource" },
        { "get", "apps", "deployments", "scale", "web", "platform", true, "* matches subresources too" },
        { "update", "coordination.k8s.io", "leases", null, "platform-operator", "platform", true, "a listed resource name" },
        { "update", "coordination.k8s.io", "leases", null, "other", "platform", false, "an unlisted resource name" },
        { "get", "coordination.k8s.io", "leases", null, null, "platform", false, "resourceNames refuse requests without a name" },
        { "patch", "events.k8s.io", "events", null, "e", "platform", true, "* matches any verb" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void Rbac_decides_like_kubernetes(string verb, string group, string resource, string? subresource, string? name, string @namespace, bool allowed, string why)
    {
        Assert.True(allowed == Policy.Allows(Operator, new ResourceRequest(verb, group, resource, subresource, name, @namespace)), why);
    }

    private static readonly Rbac ByName = Rbac.From(
    [
        Manifest("""
            {"kind": "Role", "metadata": {"name": "operator", "namespace": "platform"}, "rules": [
              {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "update"], "resourceNames": ["platform-signing-keys"]},
              {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}
            ]}
            """),
        Manifest("""
            {"kind": "RoleBinding", "metadata": {"name": "operator", "namespace": "platform"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "operator"},
             "subjects": [{"kind": "ServiceAccount", "name": "operator", "namespace": "platform"}]}
            """),
    ], "platform");

    public static TheoryData<string, string?, bool, string> Collections() => new()
    {
        { "list", "metadata.name=platform-signing-keys", true, "a list named by its field selector" },
        { "watch", "metadata.name==platform-signing-keys", true, "a watch named by its field selector (==)" },
        { "watch", "metadata.namespace=platform,metadata.name=platform-signing-keys", true, "the name among other terms" },
        { "list", null, false, "a list of every Secret" },
        { "watch", "", false, "a watch with an empty field selector" },
        { "list", "metadata.name=platform-postgresql", false, "a list naming another Secret" },
        { "list", "metadata.name!=platform-postgresql", false, "a selector that excludes a name names none" },
        { "watch", "metadata.namespace=platform", false, "a selector without the name" },
    };

    /// <summary>
    /// A list or watch carries a name only through a <c>metadata.name</c> field selector, as the API server's
    /// RequestInfo gives it to the authorizer: then, and only then, a rule with resourceNames can allow it.
    /// </summary>
    [Theory]
    [MemberData(nameof(Collections))]
    public void A_list_or_watch_is_allowed_by_resource_names_only_when_its_field_selector_names_one(string verb, string? fieldSelector, bool allowed, string why)
    {
        Assert.True(allowed == ByName.Allows(Operator, ResourceRequest.Collection(verb, "", "secrets", fieldSelector, "platform")), why);
    }

    [Fact]
    public void Resource_names_admit_get_and_update_of_those_names_only_and_create_needs_a_rule_without_them()
    {
        Assert.True(ByName.Allows(Operator, new ResourceRequest("get", "", "secrets", null, "platform-signing-keys", "platform")));
        Assert.True(ByName.Allows(Operator, new ResourceRequest("update", "", "secrets", null, "platform-signing-keys", "platform")));
        Assert.False(ByName.Allows(Operator, new ResourceRequest("get", "", "secrets", null, "platform-postgresql", "platform")));
        Assert.False(ByName.Allows(Operator, new ResourceRequest("update", "", "secrets", null, "platform-postgresql", "platform")));
        Assert.False(ByName.Allows(Operator, new ResourceRequest("delete", "", "secrets", null, "platform-signing-keys", "platform")));
        Assert.True(ByName.Allows(Operator, new ResourceRequest("create", "", "secrets", null, null, "platform")));
        Assert.False(new PolicyRule([""], ["secrets"], ["create"], ["platform-signing-keys"]).Allows(new ResourceRequest("create", "", "secrets", null, null, "platform")));
    }

    [Fact]
    public void A_role_grants_nothing_to_whom_no_binding_names()
    {
        var request = new ResourceRequest("get", "", "secrets", null, "keys", "platform");

        Assert.True(Policy.Allows(Operator, request));
        Assert.False(Policy.Allows("system:serviceaccount:platform:default", request));
        Assert.False(Policy.Allows("system:serviceaccount:other:operator", request));
    }

    [Fact]
    public void The_forbidden_message_names_user_verb_resource_group_and_namespace()
    {
        Assert.Equal("""secrets "keys" is forbidden: User "u" cannot update resource "secrets" in API group "" in the namespace "platform" """.TrimEnd(),
            Rbac.Forbidden("u", new ResourceRequest("update", "", "secrets", null, "keys", "platform")));
        Assert.Equal("""scalingpolicies/finalizers "p" is forbidden: User "u" cannot update resource "scalingpolicies/finalizers" in API group "platform.dev" in the namespace "platform" """.TrimEnd(),
            Rbac.Forbidden("u", new ResourceRequest("update", "platform.dev", "scalingpolicies", "finalizers", "p", "platform")));
    }

    private static JsonObject Manifest(string json) => JsonNode.Parse(json)!.AsObject();
}
