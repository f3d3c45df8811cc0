using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Platform.Operator.Kubernetes;

namespace Platform.Operator.Runtime;

/// <summary>
/// List, then watch from the list's resourceVersion, forever: a closed stream resumes from the last version
/// seen (bookmarks keep it fresh), a 410 lists again, any other failure lists again after a pause, and a
/// periodic resync lists anyway and hands every object to the handler — so a watch cannot die silently.
/// <see cref="LastContact"/> (the last list, event or bookmark) is what readiness checks.
/// Controllers read through <see cref="GetAsync"/> rather than asking the API server again.
/// A <paramref name="fieldSelector"/> <c>metadata.name=NAME</c> makes it an informer of that one object, which a Role
/// can grant by resourceNames (list and watch are authorised against the name in that selector).
/// </summary>
public sealed class Informer<T>(
    IKubernetesApi api,
    string? labelSelector,
    TimeSpan resyncPeriod,
    Action<WatchEventType, T> handler,
    TimeProvider clock,
    ILogger logger,
    string? fieldSelector = null) where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly ConcurrentDictionary<string, T> cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OwnWrite> ownWrites = new(StringComparer.Ordinal);
    private long writeSequence;
    private long lastContactTicks = clock.GetUtcNow().UtcTicks;

    public string Name { get; } = typeof(T).Name + (labelSelector is null && fieldSelector is null ? "" : $"[{string.Join(',', new[] { labelSelector, fieldSelector }.OfType<string>())}]");

    public bool HasSynced { get; private set; }

    public DateTimeOffset LastContact => new(Interlocked.Read(ref lastContactTicks), TimeSpan.Zero);

    public IReadOnlyCollection<T> Items => (IReadOnlyCollection<T>)cache.Values;

    public T? Find(string name) => cache.GetValueOrDefault(name);

    /// <summary>
    /// A copy of the cached object, which the caller may change. Only while the watch has not yet delivered a
    /// version this operator wrote (<see cref="Wrote"/>) does it GET the object instead: a reconcile that runs
    /// right after its own write must not decide on the copy that write replaced — the rotation's status is
    /// its memory of which keys it announced, and a stale one would record the same Events twice.
    /// </summary>
    public async Task<T?> GetAsync(string name, CancellationToken cancellationToken)
    {
        var cached = cache.GetValueOrDefault(name);
        if (ownWrites.TryGetValue(name, out var written) && cached?.Metadata.ResourceVersion != written.ResourceVersion)
        {
            return await api.FindAsync<T>(name, cancellationToken);
        }
        if (written != default)
        {
            ownWrites.TryRemove(KeyValuePair.Create(name, written));
        }
        return cached is null ? null : KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(cached));
    }

    /// <summary>Records an object as the API server answered this operator's write of it, for <see cref="GetAsync"/>.</summary>
    public void Wrote(T written) =>
        ownWrites[written.Metadata.Name] = new OwnWrite(written.Metadata.ResourceVersion, Interlocked.Increment(ref writeSequence));

    /// <summary>
    /// Runs while this instance leads; may run again after a lost and regained lease. The cache it kept meanwhile
    /// is hours old, maybe: until the first list of this run it is not <see cref="HasSynced"/>, so the controller's
    /// worker does not decide on it (it did, and recorded Events a fresher view would not have).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        HasSynced = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var resourceVersion = await ListAsync(cancellationToken);
                var resyncAt = clock.GetUtcNow() + resyncPeriod;
                while (clock.GetUtcNow() < resyncAt)
                {
                    resourceVersion = await WatchOnceAsync(resourceVersion, resyncAt, cancellationToken);
                }
            }
            catch (GoneException)
            {
                logger.LogInformation("Watch of {Informer} expired (410); listing again", Name);
            }
            catch (KubernetesApiException exception)
            {
                logger.LogWarning("Watch of {Informer} failed: {Message}; listing again shortly", Name, exception.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), clock, cancellationToken);
            }
            catch (Exception exception) when (exception is System.Text.Json.JsonException or IOException)
            {
                logger.LogWarning("Watch of {Informer} broke: {Message}; listing again shortly", Name, exception.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), clock, cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A defect (a handler's, an object's): an informer that ended here would leave its controller deaf until restarted.
                logger.LogError(exception, "Watch of {Informer} failed unexpectedly; listing again shortly", Name);
                await Task.Delay(TimeSpan.FromSeconds(1), clock, cancellationToken);
            }
        }
    }

    private async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        var writtenBefore = Interlocked.Read(ref writeSequence);
        var list = await api.ListAsync<T>(labelSelector, fieldSelector, cancellationToken);
        var names = list.Items.Select(i => i.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in cache.Keys.Where(name => !names.Contains(name)).ToList())
        {
            if (cache.TryRemove(gone, out var removed))
            {
                handler(WatchEventType.Deleted, removed);
            }
        }
        foreach (var item in list.Items)
        {
            cache[item.Metadata.Name] = item;
            handler(WatchEventType.Added, item);
        }
        // A list that began after a write shows that write or a later version.
        foreach (var (name, written) in ownWrites.Where(w => w.Value.Sequence <= writtenBefore))
        {
            ownWrites.TryRemove(KeyValuePair.Create(name, written));
        }
        Touch();
        HasSynced = true;
        return list.ResourceVersion;
    }

    private async Task<string> WatchOnceAsync(string resourceVersion, DateTimeOffset until, CancellationToken cancellationToken)
    {
        using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        window.CancelAfter(Positive(until - clock.GetUtcNow()));
        try
        {
            await foreach (var change in api.WatchAsync<T>(labelSelector, fieldSelector, resourceVersion, window.Token))
            {
                resourceVersion = change.ResourceVersion;
                Touch();
                if (change.Resource is not { } resource)
                {
                    continue;
                }
                if (change.Type == WatchEventType.Deleted)
                {
                    cache.TryRemove(resource.Metadata.Name, out _);
                    ownWrites.TryRemove(resource.Metadata.Name, out _);
                }
                else
                {
                    cache[resource.Metadata.Name] = resource;
                    if (ownWrites.TryGetValue(resource.Metadata.Name, out var written) && written.ResourceVersion == resource.Metadata.ResourceVersion)
                    {
                        ownWrites.TryRemove(KeyValuePair.Create(resource.Metadata.Name, written));
                    }
                }
                handler(change.Type, resource);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The resync window closed; the caller lists again.
        }
        return resourceVersion;
    }

    private void Touch() => Interlocked.Exchange(ref lastContactTicks, clock.GetUtcNow().UtcTicks);

    private static TimeSpan Positive(TimeSpan span) => span > TimeSpan.Zero ? span : TimeSpan.FromMilliseconds(1);

    /// <param name="Sequence">Orders writes against lists, so a list that began after a write clears it.</param>
    private readonly record struct OwnWrite(string ResourceVersion, long Sequence);
}
