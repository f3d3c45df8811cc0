using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Platform.Operator.Resources;

namespace Platform.Operator.Kubernetes;

/// <summary>
/// <see cref="IKubernetesApi"/> over KubernetesClient's transport: its configuration (kubeconfig or in-cluster),
/// TLS, client certificates and credentials, and its typed models and JSON converters. The REST calls are
/// ours, because the operator needs exact control of watches (bookmarks, resume, 410), server-side apply
/// and typed errors, for built-in and custom resources alike.
/// Every call ends: KubernetesClient's HttpClient has no timeout of its own (only its generated methods apply
/// <see cref="KubernetesClientConfiguration.HttpClientTimeout"/>), so a call here that gets no whole answer within
/// that time fails as <see cref="UnavailableException"/>, and a watch that stays silent for
/// <see cref="DefaultWatchIdleTimeout"/> ends like a closed stream. Without that, one half-open connection held a
/// controller's only worker for good while its instance kept the lease.
/// </summary>
public sealed class KubernetesApi : IKubernetesApi, IDisposable
{
    private const string ApplyPatchContentType = "application/apply-patch+yaml";
    private const string MergePatchContentType = "application/merge-patch+json";

    private readonly k8s.Kubernetes client;
    private readonly KubernetesClientConfiguration configuration;
    private readonly string @namespace;
    private readonly TimeSpan watchTimeout;
    private readonly TimeSpan watchIdleTimeout;
    private readonly TimeSpan requestTimeout;

    /// <summary>
    /// The API server sends a bookmark about every minute (kubernetes#90249) and an event for every change, so a
    /// watch silent for longer is most likely on a dead connection. Ending it costs one new watch from the last
    /// version seen, not a list, should a server send no bookmarks at all.
    /// </summary>
    public static readonly TimeSpan DefaultWatchIdleTimeout = TimeSpan.FromSeconds(90);

    public KubernetesApi(KubernetesClientConfiguration configuration, string @namespace, TimeSpan watchTimeout, TimeSpan? watchIdleTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        this.configuration = configuration;
        this.@namespace = @namespace;
        this.watchTimeout = watchTimeout;
        this.watchIdleTimeout = watchIdleTimeout ?? DefaultWatchIdleTimeout;
        requestTimeout = configuration.HttpClientTimeout;
        client = new k8s.Kubernetes(configuration);
    }

    public string Namespace => @namespace;

    public Task<T> GetAsync<T>(string name, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta> =>
        CallAsync<T>(HttpMethod.Get, ResourcePath.Item<T>(@namespace, name), null, cancellationToken);

    public async Task<T?> FindAsync<T>(string name, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        try
        {
            return await GetAsync<T>(name, cancellationToken);
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    public Task<ResourceList<T>> ListAsync<T>(string? labelSelector, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta> =>
        ListAsync<T>(labelSelector, null, cancellationToken);

    public Task<ResourceList<T>> ListAsync<T>(string? labelSelector, string? fieldSelector, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var query = Selectors(labelSelector, fieldSelector);
        return WithinRequestTimeoutAsync(HttpMethod.Get, ResourcePath.Collection<T>(@namespace) + (query.Length == 0 ? "" : "?" + query), null, async (response, token) =>
        {
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(token), cancellationToken: token);
            var items = document.RootElement.TryGetProperty("items", out var array) && array.ValueKind == JsonValueKind.Array
                ? array.EnumerateArray().Select(item => KubernetesJson.Deserialize<T>(item)).ToList()
                : [];
            var resourceVersion = document.RootElement.GetProperty("metadata").TryGetProperty("resourceVersion", out var version) ? version.GetString() ?? "" : "";
            return new ResourceList<T>(items, resourceVersion);
        }, cancellationToken);
    }

    public Task<T> CreateAsync<T>(T resource, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta> =>
        CallAsync<T>(HttpMethod.Post, ResourcePath.Collection<T>(@namespace), Json(Complete(resource)), cancellationToken);

    public Task<T> ReplaceAsync<T>(T resource, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta> =>
        CallAsync<T>(HttpMethod.Put, ResourcePath.Item<T>(@namespace, resource.Metadata.Name), Json(Complete(resource)), cancellationToken);

    public Task<T> ReplaceStatusAsync<T>(T resource, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta> =>
        CallAsync<T>(HttpMethod.Put, ResourcePath.Item<T>(@namespace, resource.Metadata.Name) + "/status", Json(Complete(resource)), cancellationToken);

    public Task DeleteAsync<T>(string name, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta> =>
        WithinRequestTimeoutAsync(HttpMethod.Delete, ResourcePath.Item<T>(@namespace, name), null, (_, _) => Task.FromResult(true), cancellationToken);

    public Task<T> MergePatchAsync<T>(string name, object patch, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var content = new StringContent(KubernetesJson.Serialize(patch), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(MergePatchContentType);
        return CallAsync<T>(HttpMethod.Patch, ResourcePath.Item<T>(@namespace, name), content, cancellationToken);
    }

    /// <summary>JSON is YAML, so the applied configuration goes as JSON under the apply-patch+yaml media type.</summary>
    public Task<T> ApplyAsync<T>(T resource, CancellationToken cancellationToken) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var content = new StringContent(KubernetesJson.Serialize(Complete(resource)), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(ApplyPatchContentType);
        var path = $"{ResourcePath.Item<T>(@namespace, resource.Metadata.Name)}?fieldManager={PlatformGroup.FieldManager}&force=true";
        return CallAsync<T>(HttpMethod.Patch, path, content, cancellationToken);
    }

    /// <summary>A call whose answer is one object.</summary>
    private Task<T> CallAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken) =>
        WithinRequestTimeoutAsync(method, path, content, ReadAsync<T>, cancellationToken);

    /// <summary>Sends and reads the answer, all of it within the request timeout.</summary>
    private async Task<TResult> WithinRequestTimeoutAsync<TResult>(
        HttpMethod method, string path, HttpContent? content, Func<HttpResponseMessage, CancellationToken, Task<TResult>> read, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(requestTimeout);
        try
        {
            using var response = await SendAsync(method, path, content, null, deadline.Token);
            return await read(response, deadline.Token);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unanswered(method, path, exception);
        }
    }

    private UnavailableException Unanswered(HttpMethod method, string path, Exception exception) =>
        new(null, null, $"{method} {path}: no answer within {requestTimeout.TotalSeconds:0.#} s.", exception);

    /// <summary>"labelSelector=…&amp;fieldSelector=…", each only when given, escaped; empty with neither.</summary>
    private static string Selectors(string? labelSelector, string? fieldSelector)
    {
        var query = new List<string>(2);
        if (labelSelector is not null)
        {
            query.Add("labelSelector=" + Uri.EscapeDataString(labelSelector));
        }
        if (fieldSelector is not null)
        {
            query.Add("fieldSelector=" + Uri.EscapeDataString(fieldSelector));
        }
        return string.Join('&', query);
    }

    public IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(string? labelSelector, string resourceVersion, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        WatchAsync<T>(labelSelector, null, resourceVersion, cancellationToken);

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(string? labelSelector, string? fieldSelector, string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var query = $"?watch=true&allowWatchBookmarks=true&resourceVersion={Uri.EscapeDataString(resourceVersion)}&timeoutSeconds={(int)watchTimeout.TotalSeconds}";
        if (Selectors(labelSelector, fieldSelector) is { Length: > 0 } selectors)
        {
            query += "&" + selectors;
        }
        var path = ResourcePath.Collection<T>(@namespace) + query;
        // The answer's headers within the request timeout, then each line within the idle timeout.
        using var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        silence.CancelAfter(requestTimeout);
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(HttpMethod.Get, path, null, null, silence.Token);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unanswered(HttpMethod.Get, path, exception);
        }
        using var _ = response;
        // With ResponseHeadersRead the stream is at hand once the headers are: this does not wait on the server.
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        while (true)
        {
            string? line;
            silence.CancelAfter(watchIdleTimeout);
            try
            {
                line = await reader.ReadLineAsync(silence.Token);
            }
            catch (IOException exception)
            {
                throw new UnavailableException(null, null, "The watch stream broke: " + exception.Message, exception);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                line = null; // silent too long: end it as if the server had, and the informer watches again from the last version
            }
            if (line is null)
            {
                yield break;
            }
            if (line.Length == 0)
            {
                continue;
            }
            yield return ParseWatchLine<T>(line);
        }
    }

    private static WatchEvent<T> ParseWatchLine<T>(string line) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        using var document = JsonDocument.Parse(line);
        var type = document.RootElement.GetProperty("type").GetString();
        var body = document.RootElement.GetProperty("object");
        if (type == "ERROR")
        {
            var (code, reason, message) = StatusOf(body);
            throw KubernetesApiException.From(code ?? HttpStatusCode.InternalServerError, reason, message ?? "The watch ended with an error.");
        }
        var eventType = type switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "BOOKMARK" => WatchEventType.Bookmark,
            _ => throw new UnavailableException(null, null, $"Unknown watch event type {type}."),
        };
        var resourceVersion = body.GetProperty("metadata").GetProperty("resourceVersion").GetString() ?? "";
        return new WatchEvent<T>(eventType, eventType == WatchEventType.Bookmark ? null : KubernetesJson.Deserialize<T>(body), resourceVersion);
    }

    /// <summary>
    /// Sends with the configured credentials. A 401 re-reads a service-account token file at once and tries
    /// again: the kubelet rotates that token, and a request must not fail because the old one just expired.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, string? accept, CancellationToken cancellationToken)
    {
        var body = content is null ? null : await content.ReadAsByteArrayAsync(cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            var response = await SendOnceAsync(method, path, body, content?.Headers.ContentType, accept, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return response;
            }
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 1 && configuration.TokenProvider is ServiceAccountToken tokenFile)
                {
                    tokenFile.Invalidate();
                    continue;
                }
                throw await ErrorAsync(response, cancellationToken);
            }
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, string path, byte[]? body, MediaTypeHeaderValue? contentType, string? accept, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(client.BaseUri, path));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = contentType;
        }
        request.Headers.Accept.ParseAdd(accept ?? "application/json");
        try
        {
            if (client.Credentials is not null)
            {
                await client.Credentials.ProcessHttpRequestAsync(request, cancellationToken);
            }
            return await client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            throw new UnavailableException(null, null, $"{method} {path}: {exception.Message}", exception);
        }
    }

    private static async Task<KubernetesApiException> ErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        string? reason = null;
        var message = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        try
        {
            using var document = JsonDocument.Parse(text);
            var status = StatusOf(document.RootElement);
            reason = status.Reason;
            message = status.Message ?? message;
        }
        catch (JsonException)
        {
            message = text.Length > 0 ? text : message;
        }
        return KubernetesApiException.From(response.StatusCode, reason, message);
    }

    private static (HttpStatusCode? Code, string? Reason, string? Message) StatusOf(JsonElement status) =>
        (status.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number ? (HttpStatusCode)code.GetInt32() : null,
         status.TryGetProperty("reason", out var reason) ? reason.GetString() : null,
         status.TryGetProperty("message", out var message) ? message.GetString() : null);

    /// <summary>
    /// The body is read whole without blocking, then parsed from memory: KubernetesJson reads a stream synchronously,
    /// which on the response's network stream would hold a thread-pool thread for every slow answer.
    /// </summary>
    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return KubernetesJson.Deserialize<T>(stream);
    }

    private static StringContent Json(object value) => new(KubernetesJson.Serialize(value), Encoding.UTF8, "application/json");

    /// <summary>Typed models leave apiVersion and kind empty unless set; the API server needs them.</summary>
    private T Complete<T>(T resource) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        resource.ApiVersion ??= ResourcePath.ApiVersionOf<T>();
        resource.Kind ??= ResourcePath.KindOf<T>();
        resource.Metadata.NamespaceProperty ??= @namespace;
        return resource;
    }

    public void Dispose() => client.Dispose();
}
