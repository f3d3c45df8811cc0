using System.Text.Json.Nodes;

namespace Platform.Operator.Tests.Emulator;

/// <summary>
/// One API request as the authorizer sees it. <paramref name="Name"/> is the object's for get, update, patch and
/// delete; null for create (the name is in the body); for list and watch, the name their field selector requires
/// (<see cref="Collection"/>), else null.
/// </summary>
public sealed record ResourceRequest(string Verb, string ApiGroup, string Resource, string? Subresource, string? Name, string Namespace)
{
    /// <summary>"secrets", or "scalingpolicies/status" for a subresource: how a rule names it.</summary>
    public string QualifiedResource => Subresource is null ? Resource : $"{Resource}/{Subresource}";

    /// <summary>
    /// A list or watch, named as the API server's RequestInfo names it: by a <c>metadata.name=NAME</c> term of its
    /// field selector, if it has one. That is what lets a rule with resourceNames allow a list or watch — of that one
    /// object — and why one without that selector is denied under such a rule (k8s.io/apiserver,
    /// pkg/endpoints/request/requestinfo.go).
    /// </summary>
    public static ResourceRequest Collection(string verb, string apiGroup, string resource, string? fieldSelector, string @namespace) =>
        new(verb, apiGroup, resource, null, FieldSelector.RequiredName(fieldSelector), @namespace);
}

/// <summary>A rule of a Role, as rbac.authorization.k8s.io/v1 writes it.</summary>
public sealed record PolicyRule(IReadOnlyList<string> ApiGroups, IReadOnlyList<string> Resources, IReadOnlyList<string> Verbs, IReadOnlyList<string> ResourceNames)
{
    /// <summary>
    /// As Kubernetes' RBAC authorizer decides: "*" matches any group, verb or resource (subresources included);
    /// "*/status" any resource's status; a subresource is its own resource ("x" does not grant "x/status"); list
    /// and watch are distinct verbs; resourceNames, when given, admit only requests that carry one of those names —
    /// a create never does, a list or watch only through its field selector (<see cref="ResourceRequest.Collection"/>).
    /// </summary>
    public bool Allows(ResourceRequest request) =>
        (ApiGroups.Contains("*") || ApiGroups.Contains(request.ApiGroup))
        && (Verbs.Contains("*") || Verbs.Contains(request.Verb))
        && (Resources.Contains("*") || Resources.Contains(request.QualifiedResource) || (request.Subresource is { } sub && Resources.Contains("*/" + sub)))
        && (ResourceNames.Count == 0 || (request.Name is { } name && ResourceNames.Contains(name)));

    public static PolicyRule FromJson(JsonNode rule) =>
        new(Strings(rule["apiGroups"]), Strings(rule["resources"]), Strings(rule["verbs"]), Strings(rule["resourceNames"]));

    private static string[] Strings(JsonNode? array) => array?.AsArray().Select(s => s!.GetValue<string>()).ToArray() ?? [];
}

/// <summary>
/// Namespaced RBAC: Roles and the RoleBindings that grant them to users and service accounts
/// (user "system:serviceaccount:NS:NAME"). A request is allowed when a binding in its namespace names the user
/// and a rule of the bound Role allows it; there are no ClusterRoles, so nothing else is.
/// </summary>
public sealed class Rbac
{
    private readonly List<(string Namespace, string Name, IReadOnlyList<PolicyRule> Rules)> roles = [];
    private readonly List<(string Namespace, string Role, IReadOnlyList<string> Users)> bindings = [];

    public static string ServiceAccountUser(string @namespace, string name) => $"system:serviceaccount:{@namespace}:{name}";

    /// <summary>Roles and RoleBindings from manifests (other kinds are ignored); a manifest without a namespace is in <paramref name="defaultNamespace"/>.</summary>
    public static Rbac From(IEnumerable<JsonObject> manifests, string defaultNamespace)
    {
        var rbac = new Rbac();
        foreach (var manifest in manifests)
        {
            var @namespace = manifest["metadata"]?["namespace"]?.GetValue<string>() ?? defaultNamespace;
            var name = manifest["metadata"]!["name"]!.GetValue<string>();
            switch (manifest["kind"]?.GetValue<string>())
            {
                case "Role":
                    rbac.roles.Add((@namespace, name, manifest["rules"]?.AsArray().Select(r => PolicyRule.FromJson(r!)).ToList() ?? []));
                    break;
                case "RoleBinding" when manifest["roleRef"]!["kind"]!.GetValue<string>() == "Role":
                    var users = manifest["subjects"]?.AsArray().Select(s => s!["kind"]!.GetValue<string>() switch
                    {
                        "ServiceAccount" => ServiceAccountUser(s["namespace"]?.GetValue<string>() ?? @namespace, s["name"]!.GetValue<string>()),
                        _ => s["name"]!.GetValue<string>(),
                    }).ToList() ?? [];
                    rbac.bindings.Add((@namespace, manifest["roleRef"]!["name"]!.GetValue<string>(), users));
                    break;
            }
        }
        return rbac;
    }

    public bool Allows(string user, ResourceRequest request) =>
        bindings.Where(b => b.Namespace == request.Namespace && b.Users.Contains(user))
            .SelectMany(b => roles.Where(r => r.Namespace == b.Namespace && r.Name == b.Role))
            .Any(role => role.Rules.Any(rule => rule.Allows(request)));

    /// <summary>The message of the API server's 403.</summary>
    public static string Forbidden(string user, ResourceRequest request) =>
        $"{request.QualifiedResource}{(request.Name is null ? "" : $" \"{request.Name}\"")} is forbidden: User \"{user}\" cannot {request.Verb} resource \"{request.QualifiedResource}\" in API group \"{request.ApiGroup}\" {(request.Namespace.Length == 0 ? "at the cluster scope" : $"in the namespace \"{request.Namespace}\"")}";
}
