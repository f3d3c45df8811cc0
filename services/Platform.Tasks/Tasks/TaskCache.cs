using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Tasks.Tasks;

/// <summary>
/// Cache-aside for a user's reads. One Redis hash per user and cache generation, <c>tasks:{user}:{generation}</c>,
/// holds that generation's answers (fields <c>item:{id}</c>, <c>list:…</c>) with a TTL. The generation comes from
/// PostgreSQL (<c>cache_generations</c>, bumped in every write transaction and read on the connection that reads
/// the data), so after a write no key of an older generation is ever asked for again; Redis holds only values,
/// and losing them, or getting old ones back after a restart, can cost misses but never serve a stale answer.
/// Any Redis failure is a miss: the database answers.
/// </summary>
public sealed class TaskCache
{
    public const string MeterName = "Platform.Tasks";

    private readonly IRedisConnection redis;
    private readonly TimeSpan ttl;
    private readonly Counter<long> requests;

    public TaskCache(IRedisConnection redis, IOptions<TasksOptions> options, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meters);
        this.redis = redis;
        ttl = TimeSpan.FromSeconds(options.Value.CacheTtlSeconds);
        requests = meters.Create(MeterName).CreateCounter<long>("cache.requests", "{request}", "Cache lookups by result (hit, miss, error).");
    }

    public static string ItemField(Guid id) => $"item:{id:N}";

    public static string ListField(string? status, Guid? after, int limit) => $"list:{status ?? "*"}:{after?.ToString("N") ?? "-"}:{limit}";

    public async Task<T?> GetAsync<T>(Guid userId, long generation, string field)
        where T : class
    {
        var bytes = await GetBytesAsync(userId, generation, field);
        try
        {
            return bytes is null ? null : JsonSerializer.Deserialize<T>(bytes, JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            Count("error");
            return null;
        }
    }

    /// <summary>The cached answer as stored: the JSON the API writes, for a caller that hands it on as it is.</summary>
    public async Task<byte[]?> GetBytesAsync(Guid userId, long generation, string field)
    {
        if (!redis.IsConnected)
        {
            Count("error");
            return null;
        }
        try
        {
            var value = await redis.Database.HashGetAsync(Key(userId, generation), field);
            Count(value.IsNull ? "miss" : "hit");
            return value.IsNull ? null : (byte[])value!;
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            Count("error");
            return null;
        }
    }

    /// <summary>Fire and forget: filling the cache never delays or fails a read.</summary>
    public void Set<T>(Guid userId, long generation, string field, T value) =>
        SetBytes(userId, generation, field, JsonSerializer.SerializeToUtf8Bytes(value, JsonSerializerOptions.Web));

    /// <summary>Fire and forget, like <see cref="Set{T}"/>, for an answer already serialised.</summary>
    public void SetBytes(Guid userId, long generation, string field, byte[] bytes)
    {
        if (!redis.IsConnected)
        {
            return;
        }
        try
        {
            var key = Key(userId, generation);
            _ = redis.Database.HashSetAsync(key, field, bytes, flags: CommandFlags.FireAndForget);
            _ = redis.Database.KeyExpireAsync(key, ttl, flags: CommandFlags.FireAndForget);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            // The next read misses and asks the database again.
        }
    }

    /// <summary>Drops a generation's answers at once (they are unreachable anyway, and would expire with their TTL).</summary>
    public void Forget(Guid userId, long generation)
    {
        if (!redis.IsConnected)
        {
            return;
        }
        try
        {
            _ = redis.Database.KeyDeleteAsync(Key(userId, generation), CommandFlags.FireAndForget);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            // TTL does it later.
        }
    }

    private static RedisKey Key(Guid userId, long generation) => $"tasks:{userId:N}:{generation}";

    private void Count(string result) => requests.Add(1, new KeyValuePair<string, object?>("result", result));
}
