using System.Reflection;
using k8s.Models;

namespace Platform.Operator.Kubernetes;

/// <summary>REST paths of a namespaced resource type, from its <see cref="KubernetesEntityAttribute"/>.</summary>
public static class ResourcePath
{
    public static string Collection<T>(string @namespace)
    {
        var entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{typeof(T).Name} has no KubernetesEntity attribute.");
        var prefix = string.IsNullOrEmpty(entity.Group) ? $"api/{entity.ApiVersion}" : $"apis/{entity.Group}/{entity.ApiVersion}";
        return $"{prefix}/namespaces/{Uri.EscapeDataString(@namespace)}/{entity.PluralName}";
    }

    public static string Item<T>(string @namespace, string name) => $"{Collection<T>(@namespace)}/{Uri.EscapeDataString(name)}";

    /// <summary>"apps/v1", or "v1" for the core group: what an object's apiVersion says.</summary>
    public static string ApiVersionOf<T>()
    {
        var entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()!;
        return string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}";
    }

    public static string KindOf<T>() => typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()!.Kind;
}
