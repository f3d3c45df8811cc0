using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Platform.Deploy.Tests;

/// <summary>
/// Checks a rendered object against the Kubernetes API as KubernetesClient's typed models describe it — the job
/// kubeconform does, with a library the operator already uses: the apiVersion and kind must be a built-in type;
/// every field must exist on its model (a misspelt field is refused, where the API server would drop it or, with
/// strict field validation, refuse it); every value must have its field's type (the client's own deserializer
/// reads the object, so IntOrString, quantities and dates are held to its converters); and required fields must
/// be present. The models (KubernetesClient 18 and later) carry required-ness only for value types, so the
/// required reference fields of the types these charts use are listed here from the API's OpenAPI definitions.
/// </summary>
public static class KubernetesModels
{
    private static readonly Assembly Models = typeof(V1Pod).Assembly;

    /// <summary>Built-in kinds by (apiVersion, kind).</summary>
    private static readonly Dictionary<(string ApiVersion, string Kind), Type> Kinds = Models.GetTypes()
        .Select(type => (Type: type, Entity: type.GetCustomAttribute<KubernetesEntityAttribute>()))
        .Where(entry => entry.Entity is not null && entry.Type.GetProperty("Metadata") is not null)
        .GroupBy(entry => (ApiVersionOf(entry.Entity!), entry.Entity!.Kind))
        .ToDictionary(group => group.Key, group => group.First().Type);

    /// <summary>Reference-typed fields the API requires (value types without a default are required by their type).</summary>
    private static readonly Dictionary<Type, string[]> RequiredReferences = new()
    {
        [typeof(V1ObjectMeta)] = [],
        [typeof(V1Container)] = ["name"],
        [typeof(V1EnvVar)] = ["name"],
        [typeof(V1Volume)] = ["name"],
        [typeof(V1VolumeMount)] = ["name", "mountPath"],
        [typeof(V1KeyToPath)] = ["key", "path"],
        [typeof(V1SecretKeySelector)] = ["key"],
        [typeof(V1ConfigMapKeySelector)] = ["key"],
        [typeof(V1LabelSelectorRequirement)] = ["key", "operator"],
        [typeof(V1PodSpec)] = ["containers"],
        [typeof(V1DeploymentSpec)] = ["selector", "template"],
        [typeof(V1StatefulSetSpec)] = ["selector", "template"],
        [typeof(V1JobSpec)] = ["template"],
        [typeof(V1HTTPGetAction)] = ["port"],
        [typeof(V1TCPSocketAction)] = ["port"],
        [typeof(V1PolicyRule)] = ["verbs"],
        [typeof(V1RoleRef)] = ["apiGroup", "kind", "name"],
        [typeof(Rbacv1Subject)] = ["kind", "name"],
        [typeof(V1HTTPIngressRuleValue)] = ["paths"],
        [typeof(V1HTTPIngressPath)] = ["pathType", "backend"],
        [typeof(V1IngressServiceBackend)] = ["name"],
        [typeof(V1TopologySpreadConstraint)] = ["topologyKey", "whenUnsatisfiable"],
        [typeof(V1PersistentVolumeClaimSpec)] = [],
        [typeof(V1CustomResourceDefinitionSpec)] = ["group", "names", "scope", "versions"],
        [typeof(V1CustomResourceDefinitionNames)] = ["kind", "plural"],
        [typeof(V1CustomResourceDefinitionVersion)] = ["name"],
    };

    public static bool IsBuiltIn(string apiVersion, string kind) => Kinds.ContainsKey((apiVersion, kind));

    /// <summary>What is wrong with a built-in object, one line each; empty when the API would accept it.</summary>
    public static IReadOnlyList<string> Violations(JsonNode manifest)
    {
        var apiVersion = (string?)manifest["apiVersion"];
        var kind = (string?)manifest["kind"];
        if (apiVersion is null || kind is null || !Kinds.TryGetValue((apiVersion, kind), out var type))
        {
            return [$"{apiVersion}/{kind}: not a kind of the Kubernetes API"];
        }
        var violations = new List<string>();
        if (manifest["metadata"]?["name"] is null)
        {
            violations.Add("metadata.name: required");
        }
        Walk(manifest, type, "", violations);
        if (violations.Count == 0)
        {
            try
            {
                Deserialize(manifest, type);
            }
            catch (JsonException exception)
            {
                violations.Add($"{exception.Path}: {exception.Message}");
            }
        }
        return violations;
    }

    private static void Deserialize(JsonNode manifest, Type type) =>
        typeof(KubernetesJson).GetMethod(nameof(KubernetesJson.Deserialize), [typeof(string), typeof(JsonSerializerOptions)])!
            .MakeGenericMethod(type).Invoke(null, [manifest.ToJsonString(), null]);

    private static string ApiVersionOf(KubernetesEntityAttribute entity) =>
        string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}";

    private static void Walk(JsonNode? node, Type type, string path, List<string> violations)
    {
        if (node is null)
        {
            return;
        }
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(object))
        {
            return;
        }
        var kind = node.GetValueKind();
        string? expected = null;
        if (type == typeof(string) || type == typeof(DateTime) || type == typeof(byte[]))
        {
            expected = kind == JsonValueKind.String ? null : "a string";
        }
        else if (type == typeof(bool))
        {
            expected = kind is JsonValueKind.True or JsonValueKind.False ? null : "a boolean";
        }
        else if (type == typeof(int) || type == typeof(long))
        {
            expected = kind == JsonValueKind.Number && node.AsValue().TryGetValue<long>(out _) ? null : "an integer";
        }
        else if (type == typeof(double))
        {
            expected = kind == JsonValueKind.Number ? null : "a number";
        }
        else if (type == typeof(IntOrString))
        {
            expected = kind == JsonValueKind.String || (kind == JsonValueKind.Number && node.AsValue().TryGetValue<long>(out _)) ? null : "an integer or a string";
        }
        else if (type == typeof(ResourceQuantity))
        {
            expected = kind is JsonValueKind.String or JsonValueKind.Number && IsQuantity(node) ? null : "a quantity (e.g. 500m, 256Mi)";
        }
        else if (DictionaryValueType(type) is { } valueType)
        {
            if (node is JsonObject map)
            {
                foreach (var (key, value) in map)
                {
                    Walk(value, valueType, $"{path}.{key}", violations);
                }
                return;
            }
            expected = "an object";
        }
        else if (ListItemType(type) is { } itemType)
        {
            if (node is JsonArray items)
            {
                for (var i = 0; i < items.Count; i++)
                {
                    Walk(items[i], itemType, $"{path}[{i}]", violations);
                }
                return;
            }
            expected = "a list";
        }
        else if (node is JsonObject fields)
        {
            WalkFields(fields, type, path, violations);
            return;
        }
        else
        {
            expected = "an object";
        }
        if (expected is not null)
        {
            violations.Add($"{Trim(path)}: {kind} where the API wants {expected}");
        }
    }

    private static void WalkFields(JsonObject fields, Type type, string path, List<string> violations)
    {
        var properties = type.GetProperties()
            .Select(property => (Property: property, Name: property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name))
            .Where(entry => entry.Name is not null)
            .ToDictionary(entry => entry.Name!, entry => entry.Property, StringComparer.Ordinal);
        foreach (var (name, value) in fields)
        {
            if (properties.TryGetValue(name, out var property))
            {
                Walk(value, property.PropertyType, $"{path}.{name}", violations);
            }
            else
            {
                violations.Add($"{Trim(path)}.{name}: unknown field of {type.Name}");
            }
        }
        var required = properties
            .Where(entry => entry.Value.PropertyType.IsValueType && Nullable.GetUnderlyingType(entry.Value.PropertyType) is null)
            .Select(entry => entry.Key)
            .Concat(RequiredReferences.GetValueOrDefault(type) ?? []);
        foreach (var name in required.Where(name => fields[name] is null))
        {
            violations.Add($"{Trim(path)}.{name}: required by {type.Name}");
        }
    }

    private static bool IsQuantity(JsonNode node)
    {
        try
        {
            _ = new ResourceQuantity(node.GetValueKind() == JsonValueKind.String ? (string)node! : node.ToJsonString()).ToDecimal();
            return true;
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>) ? type.GetGenericArguments()[1] : null;

    private static Type? ListItemType(Type type) =>
        type != typeof(string) && type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments() is [var item] ? item : null;

    private static string Trim(string path) => path.TrimStart('.');
}
