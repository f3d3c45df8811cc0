using Npgsql;
using Platform.Data;

namespace Platform.Tasks.Tasks;

/// <summary>
/// The read path: one <see cref="TaskReadPlan"/> per request, then the cache under a generation this process still
/// remembers (no database at all), else the planned server: the generation first on the same connection (the data
/// read after it is at least that new), the cache under it, and only then the query.
/// </summary>
public sealed class TaskReads(ReadRouter router, TaskCache cache, GenerationMemo memo)
{
    /// <summary>
    /// The one place that asks whether the user wrote recently, and only when the answer matters: for a remembered
    /// generation, or when a replica could take the read.
    /// </summary>
    public async ValueTask<TaskReadPlan> PlanAsync(Guid userId)
    {
        var remembered = memo.Recall(userId);
        var replicaCurrent = router.ReplicaCurrent;
        var wroteRecently = (remembered is not null || replicaCurrent) && await router.WroteRecentlyAsync(Subject(userId));
        return new TaskReadPlan(replicaCurrent && !wroteRecently ? ReadTarget.Replica : ReadTarget.Primary, wroteRecently ? null : remembered);
    }

    /// <summary>One task as the JSON the API answers with: a cache hit is the cached bytes as they are.</summary>
    public async Task<TaskJson?> GetAsync(Guid userId, Guid id, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(userId);
        var field = TaskCache.ItemField(id);
        if (plan.KnownGeneration is { } known && TaskJson.FromCached(await cache.GetBytesAsync(userId, known, field)) is { } hit)
        {
            return hit;
        }
        return await router.ReadAsync(plan.Target, async connection =>
        {
            var generation = await GenerationAsync(connection, userId, cancellationToken);
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
        var plan = await PlanAsync(userId);
        var field = TaskCache.ListField(status, after, limit);
        if (plan.KnownGeneration is { } known && await cache.GetAsync<TaskPage>(userId, known, field) is { } hit)
        {
            return hit;
        }
        return await router.ReadAsync(plan.Target, async connection =>
        {
            var generation = await GenerationAsync(connection, userId, cancellationToken);
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
    private async Task<long> GenerationAsync(NpgsqlConnection connection, Guid userId, CancellationToken cancellationToken)
    {
        var readAt = memo.Now();
        var generation = await TaskStore.GenerationAsync(connection, userId, cancellationToken);
        memo.Remember(userId, generation, readAt);
        return generation;
    }
}
