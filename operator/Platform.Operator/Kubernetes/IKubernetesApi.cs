using k8s;
using k8s.Models;

namespace Platform.Operator.Kubernetes;

/// <summary>
/// The verbs the operator uses, for any resource type carrying a <see cref="KubernetesEntityAttribute"/>, in
/// one namespace. Failures surface as <see cref="KubernetesApiException"/> subtypes, never as raw HTTP.
/// </summary>
public interface IKubernetesApi
{
    Task<T> GetAsync<T>(string name, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Null instead of <see cref="NotFoundException"/>.</summary>
    Task<T?> FindAsync<T>(string name, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    Task<ResourceList<T>> ListAsync<T>(string? labelSelector, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>
    /// The objects matching both selectors (either may be null). A field selector <c>metadata.name=NAME</c> names the
    /// object to the authorizer, so a Role may grant list on it by resourceNames, which a label selector cannot.
    /// </summary>
    Task<ResourceList<T>> ListAsync<T>(string? labelSelector, string? fieldSelector, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    Task<T> CreateAsync<T>(T resource, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>A full update; the resource's resourceVersion makes it conditional (<see cref="ConflictException"/> when stale).</summary>
    Task<T> ReplaceAsync<T>(T resource, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Updates the status subresource only, conditional on the resourceVersion like <see cref="ReplaceAsync{T}"/>.</summary>
    Task<T> ReplaceStatusAsync<T>(T resource, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    Task DeleteAsync<T>(string name, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>RFC 7386 JSON merge patch.</summary>
    Task<T> MergePatchAsync<T>(string name, object patch, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Server-side apply of the fields this operator owns, as field manager platform-operator, forcing conflicts.</summary>
    Task<T> ApplyAsync<T>(T resource, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>
    /// Changes after <paramref name="resourceVersion"/>, with bookmarks, until the server ends the stream.
    /// Throws <see cref="GoneException"/> when that version is too old: the caller must list again.
    /// </summary>
    IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(string? labelSelector, string resourceVersion, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>As <see cref="WatchAsync{T}(string?, string, CancellationToken)"/>, of the objects matching both selectors (see <see cref="ListAsync{T}(string?, string?, CancellationToken)"/>).</summary>
    IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(string? labelSelector, string? fieldSelector, string resourceVersion, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>;
}

public sealed record ResourceList<T>(IReadOnlyList<T> Items, string ResourceVersion);

/// <param name="Resource">Null for bookmarks, which carry only <paramref name="ResourceVersion"/>.</param>
public sealed record WatchEvent<T>(WatchEventType Type, T? Resource, string ResourceVersion);
