using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Data;

/// <summary>
/// Who wrote within the read-your-writes window, across the replicas of a service: a Redis key with that TTL
/// per subject (<c>ryw:{database}:{subject}</c>), and the same in this process's memory so its own writers need
/// no Redis call. When Redis cannot say — it is down, or was down within the window — every subject counts as
/// a recent writer, so an outage sends reads to the primary instead of risking a stale one; marks made during
/// an outage are written to Redis once it is back.
/// </summary>
public sealed class RecentWriters
{
    private const int SweepThreshold = 10_000;

    private readonly ConcurrentDictionary<string, long> local = new();
    private readonly IRedisConnection redis;
    private readonly TimeProvider time;
    private readonly TimeSpan window;
    private readonly string prefix;
    private long redisDoubtfulUntil;

    public RecentWriters(IRedisConnection redis, PrimaryDatabase database, IOptions<ReadRoutingOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(options);
        this.redis = redis;
        this.time = time;
        window = TimeSpan.FromSeconds(options.Value.ReadYourWritesSeconds);
        prefix = $"ryw:{database.Name}:";
        redis.Restored += (_, _) => _ = ReplayLocalMarksAsync();
    }

    /// <summary>Records that <paramref name="subject"/> has just written; never fails.</summary>
    public async Task NoteWriteAsync(string subject)
    {
        var now = time.GetTimestamp();
        local[subject] = now + (long)(window.TotalSeconds * time.TimestampFrequency);
        if (local.Count > SweepThreshold)
        {
            Sweep(now);
        }
        if (!redis.IsConnected)
        {
            // Down or hung: no wait for a timeout. Sent all the same, unawaited, in case Redis is only slow and other
            // instances still read it; and replayed when it is restored.
            Doubt();
            try
            {
                _ = redis.Database.StringSetAsync(prefix + subject, 1, window, flags: CommandFlags.FireAndForget);
            }
            catch (Exception e) when (RedisConnection.IsOutage(e))
            {
                // refused at once: nothing to add to the doubt above
            }
            return;
        }
        try
        {
            await redis.Database.StringSetAsync(prefix + subject, 1, window);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            Doubt();
        }
    }

    /// <summary>True when reads of <paramref name="subject"/> must see its own recent writes (or Redis cannot tell).</summary>
    public async ValueTask<bool> WroteRecentlyAsync(string subject)
    {
        var now = time.GetTimestamp();
        if (local.TryGetValue(subject, out var until))
        {
            if (until > now)
            {
                return true;
            }
            local.TryRemove(new KeyValuePair<string, long>(subject, until));
        }
        if (Interlocked.Read(ref redisDoubtfulUntil) > now || !redis.IsConnected)
        {
            return true;
        }
        try
        {
            return await redis.Database.KeyExistsAsync(prefix + subject);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            Doubt();
            return true;
        }
    }

    private void Doubt() =>
        Interlocked.Exchange(ref redisDoubtfulUntil, time.GetTimestamp() + (long)(window.TotalSeconds * time.TimestampFrequency));

    private async Task ReplayLocalMarksAsync()
    {
        var now = time.GetTimestamp();
        foreach (var (subject, until) in local)
        {
            var left = TimeSpan.FromSeconds((until - now) / (double)time.TimestampFrequency);
            if (left <= TimeSpan.Zero)
            {
                continue;
            }
            try
            {
                await redis.Database.StringSetAsync(prefix + subject, 1, left);
            }
            catch (Exception e) when (RedisConnection.IsOutage(e))
            {
                Doubt();
                return;
            }
        }
    }

    private void Sweep(long now)
    {
        foreach (var entry in local)
        {
            if (entry.Value <= now)
            {
                local.TryRemove(entry);
            }
        }
    }
}
