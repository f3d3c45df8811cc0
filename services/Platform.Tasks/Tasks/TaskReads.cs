using Npgsql;
using Platform.Data;

namespace Platform.Tasks.Tasks;

/// <summary>
/// The read path: one <see cref="TaskReadPlan"/> per request, then the cache under a generation this process still
/// remembers (no database at all), else the planned server: the generation first on the same connection (the data
/// read after it is at least that new), the cache under it, and only then the query. Under a remembered generation
/// the cached answer is asked for before the plan's write-mark check, so both go to Redis together and a cached read
/// costs one round trip, not two; the answer is used only if the plan allows it.
/// </summary>
public sealed class TaskReads(ReadRouter router, TaskCache cache, GenerationMemo memo)
{
    /// <summary>
    /// The one place that asks whether the user wrote recently, and only when the answer matters: for a remembered
    /// generation (<paramref name="remembered"/>, recalled once by the caller), or when a replica could take the read.
    /// </summary>
    private async ValueTask<TaskReadPlan> PlanAsync(Guid userId, long? remembered)
    {
        var replicaCurrent = router.ReplicaCurrent;
        var wroteRecently = (remembered is not null || replicaCurrent) && await router.WroteRecentlyAsync(Subject(userId));
        return new TaskReadPlan(replicaCurrent && !wroteRecently ? ReadTarget.Replica : ReadTarget.Primary, wroteRecently ? null : remembered);
    }

    /// <summary>One task as the JSON the API answers with: a cache hit is the cached bytes as they are.</summary>
    public async Task<TaskJson?> GetAsync(Guid userId, Guid id, CancellationToken cancellationToken)
    {
        var field = TaskCache.ItemField(id);
        var remembered = memo.Recall(userId);
        var early = remembered is { } generation ? cache.GetBytesAsync(userId, generation, field) : null;
        var plan = await PlanAsync(userId, remembered);
        if (early is not null && TaskJson.FromCached(await early) is { } hit && plan.KnownGeneration is not null)
        {
            return hit;
        }
        return await router.ReadAsync(plan.Target, async (connection, server) =>
        {
            var generation = await GenerationAsync(connection, server, userId, cancellationToken);
            if (generation != plan.KnownGeneration && TaskJson.FromCached(await cache.GetBytesAsync(userId, generation, field)) is { } cached)
            {
                return cached;
            }
            if (await TaskStore.FindAsync(connection, userId, id, cancellationToken) is not { } task)
            {
                return null;
            }
            var json = TaskJson.From(task);
            cache.SetBytes(userId, generation, field, json.Utf8);
            return json;
        }, cancellationToken);
    }

    public async Task<TaskPage> ListAsync(Guid userId, string? status, Guid? after, int limit, CancellationToken cancellationToken)
    {
        var field = TaskCache.ListField(status, after, limit);
        var remembered = memo.Recall(userId);
        var early = remembered is { } generation ? cache.GetAsync<TaskPage>(userId, generation, field) : null;
        var plan = await PlanAsync(userId, remembered);
        if (early is not null && await early is { } hit && plan.KnownGeneration is not null)
        {
            return hit;
        }
        return await router.ReadAsync(plan.Target, async (connection, server) =>
        {
            var generation = await GenerationAsync(connection, server, userId, cancellationToken);
            if (generation != plan.KnownGeneration && await cache.GetAsync<TaskPage>(userId, generation, field) is { } cached)
            {
                return cached;
            }
            var page = await TaskStore.PageAsync(connection, userId, status, after, limit, cancellationToken);
            cache.Set(userId, generation, field, page);
            return page;
        }, cancellationToken);
    }

    public static string Subject(Guid userId) => userId.ToString("N");

    /// <summary>The user's generation on this connection's server, remembered for the reads that follow.</summary>
    private async Task<long> GenerationAsync(NpgsqlConnection connection, ReadTarget server, Guid userId, CancellationToken cancellationToken)
    {
        var readAt = memo.Now();
        var generation = await TaskStore.GenerationAsync(connection, userId, cancellationToken);
        memo.Remember(userId, generation, readAt, server);
        return generation;
    }
}
