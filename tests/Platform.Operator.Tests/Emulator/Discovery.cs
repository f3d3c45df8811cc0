using System.Text.Json.Nodes;

namespace Platform.Operator.Tests.Emulator;

/// <summary>
/// The built-in resources the emulator serves, and the discovery documents a client builds its REST mapping from
/// (/version, /api, /api/v1, /apis, /apis/G/V; the JSON forms, which every client still accepts): enough for
/// `helm template --dry-run=server`, whose <c>lookup</c> and <c>.Capabilities.APIVersions</c> read them.
/// </summary>
public static class Discovery
{
    public const string KubernetesVersion = "v1.33.0";

    /// <summary>Group, version, plural, kind, namespaced.</summary>
    public static readonly IReadOnlyList<(string Group, string Version, string Plural, string Kind, bool Namespaced)> BuiltIn =
    [
        ("", "v1", "configmaps", "ConfigMap", true),
        ("", "v1", "events", "Event", true),
        ("", "v1", "namespaces", "Namespace", false),
        ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true),
        ("", "v1", "pods", "Pod", true),
        ("", "v1", "secrets", "Secret", true),
        ("", "v1", "serviceaccounts", "ServiceAccount", true),
        ("", "v1", "services", "Service", true),
        ("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false),
        ("apps", "v1", "deployments", "Deployment", true),
        ("apps", "v1", "statefulsets", "StatefulSet", true),
        ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true),
        ("batch", "v1", "jobs", "Job", true),
        ("coordination.k8s.io", "v1", "leases", "Lease", true),
        ("events.k8s.io", "v1", "events", "Event", true),
        ("networking.k8s.io", "v1", "ingresses", "Ingress", true),
        ("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true),
        ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true),
        ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true),
        ("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
        ("storage.k8s.io", "v1", "storageclasses", "StorageClass", false),
    ];

    public static readonly IReadOnlySet<string> BuiltInGroups = BuiltIn.Select(r => r.Group).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Whether the emulator serves PLURAL of GROUP/VERSION outside any namespace: the cluster-scoped built-in kinds but
    /// namespaces (a path under api/v1/namespaces/ is a namespaced one) and CRDs (<see cref="ApiServerEmulator.InstallCustomResourceDefinition"/>).
    /// </summary>
    public static bool ClusterScoped(string group, string version, string plural) =>
        plural is not ("namespaces" or "customresourcedefinitions")
        && BuiltIn.Any(r => !r.Namespaced && r.Group == group && r.Version == version && r.Plural == plural);

    private static readonly string[] Verbs = ["create", "delete", "get", "list", "patch", "update", "watch"];

    /// <summary>
    /// The discovery document at <paramref name="path"/> (null when it is not one), with the custom resources served
    /// now as (group, version, plural, kind), all namespaced.
    /// </summary>
    public static JsonObject? Document(string path, IEnumerable<(string Group, string Version, string Plural, string Kind)> custom)
    {
        var resources = BuiltIn.Concat(custom.Select(c => (c.Group, c.Version, c.Plural, c.Kind, Namespaced: true))).ToList();
        switch (path.Trim('/').Split('/'))
        {
            case ["version"]:
                return new JsonObject { ["major"] = "1", ["minor"] = "33", ["gitVersion"] = KubernetesVersion, ["platform"] = "linux/amd64" };
            case ["api"]:
                return new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1"), ["serverAddressByClientCIDRs"] = new JsonArray() };
            case ["apis"]:
                return new JsonObject
                {
                    ["kind"] = "APIGroupList",
                    ["apiVersion"] = "v1",
                    ["groups"] = new JsonArray(resources.Where(r => r.Group != "").GroupBy(r => r.Group).Select(g =>
                    {
                        var versions = g.Select(r => r.Version).Distinct().Select(v => (JsonNode)new JsonObject { ["groupVersion"] = $"{g.Key}/{v}", ["version"] = v }).ToArray();
                        return (JsonNode)new JsonObject { ["name"] = g.Key, ["versions"] = new JsonArray(versions), ["preferredVersion"] = versions[0].DeepClone() };
                    }).ToArray()),
                };
            case ["api", "v1"]:
                return ResourceList("v1", resources.Where(r => r.Group == "" && r.Version == "v1"));
            case ["apis", var group, var version] when resources.Any(r => r.Group == group && r.Version == version):
                return ResourceList($"{group}/{version}", resources.Where(r => r.Group == group && r.Version == version));
            default:
                return null;
        }
    }

    private static JsonObject ResourceList(string groupVersion, IEnumerable<(string Group, string Version, string Plural, string Kind, bool Namespaced)> resources) => new()
    {
        ["kind"] = "APIResourceList",
        ["apiVersion"] = "v1",
        ["groupVersion"] = groupVersion,
        ["resources"] = new JsonArray(resources.Select(r => (JsonNode)new JsonObject
        {
            ["name"] = r.Plural,
            ["singularName"] = r.Kind.ToLowerInvariant(),
            ["namespaced"] = r.Namespaced,
            ["kind"] = r.Kind,
            ["verbs"] = new JsonArray(Verbs.Select(v => (JsonNode)v).ToArray()),
        }).ToArray()),
    };
}
