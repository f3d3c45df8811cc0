using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Platform.Hosting.Hosting;
using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Gateway.Events;

/// <summary>
/// How many event streams each user holds across every gateway instance, so <see cref="EventStreamOptions.MaxStreamsPerUser"/>
/// bounds a user's streams in the whole fleet rather than on each instance (behind a load balancer, N instances would
/// otherwise let one user hold N times the limit).
/// <para>
/// In Redis, per user a hash <c>{eventstreams}:user:{id}</c> of instance → streams that instance holds for the user, and
/// one hash <c>{eventstreams}:gateways</c> of instance → lease expiry (Redis' clock), which each instance renews every
/// <see cref="HeartbeatInterval"/>. Taking a place is one script: it counts the user's streams on instances whose lease
/// holds, drops the entries of instances whose lease ran out (a crashed pod's streams stop counting within
/// <see cref="LeaseDuration"/>), and takes the place if the count is under the limit. All keys share the
/// <c>{eventstreams}</c> hash tag: one slot of a Redis Cluster, so one script may read them together.
/// </para>
/// <para>
/// Redis is a degraded dependency: when it cannot answer, a stream is admitted on this instance's own per-user limit
/// (and, until a heartbeat reaches Redis again, without asking it: a hung server costs one timeout, not one per stream),
/// and the users whose count here Redis may have missed (an unanswered take or release, a lease that lapsed, a restart
/// that lost writes, a key evicted) have their count rewritten from this instance's own: those marked at the next
/// heartbeat, every user this instance holds streams of every <see cref="FullRewriteEvery"/> heartbeats and whenever
/// the connection is restored. Meanwhile the fleet's count is approximate.
/// </para>
/// </summary>
public sealed partial class StreamLeases : BackgroundLoop
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    /// <summary>Every this many heartbeats each user's count is rewritten, whatever Redis did with it.</summary>
    public const int FullRewriteEvery = 6;

    private const string GatewaysKey = "{eventstreams}:gateways";

    // KEYS: user hash, gateways. ARGV: instance, limit, user hash TTL (s). Returns the user's streams after the take,
    // or minus the count when the limit is reached.
    private const string TakeScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local held = redis.call('HGETALL', KEYS[1])
        local total = 0
        for i = 1, #held, 2 do
          local instance, count = held[i], tonumber(held[i + 1])
          local lease = tonumber(redis.call('HGET', KEYS[2], instance) or '0')
          if instance == ARGV[1] or lease > now then
            total = total + count
          else
            redis.call('HDEL', KEYS[1], instance)
          end
        end
        if total >= tonumber(ARGV[2]) then return -total end
        redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
        redis.call('EXPIRE', KEYS[1], ARGV[3])
        return total + 1
        """;

    // KEYS: user hash. ARGV: instance.
    private const string ReleaseScript = """
        local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
        if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
        return left
        """;

    // KEYS: gateways. ARGV: instance, lease (ms). Renews the lease; returns whether it had lapsed (or never existed),
    // and forgets instances whose lease ran out long ago.
    private const string HeartbeatScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local lease = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
        redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', now + tonumber(ARGV[2])))
        local all = redis.call('HGETALL', KEYS[1])
        for i = 1, #all, 2 do
          if tonumber(all[i + 1]) < now - 10 * tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], all[i]) end
        end
        redis.call('PEXPIRE', KEYS[1], 10 * tonumber(ARGV[2]))
        if lease > now then return 0 end
        return 1
        """;

    // KEYS: user hash. ARGV: instance, count, TTL (s).
    private const string RewriteScript = """
        if tonumber(ARGV[2]) > 0 then
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
          redis.call('EXPIRE', KEYS[1], ARGV[3])
        else
          redis.call('HDEL', KEYS[1], ARGV[1])
        end
        return 1
        """;

    /// <summary>Longest a stream lives is its token's lifetime; a day covers any, and each take renews it.</summary>
    private const int UserKeySeconds = 86_400;

    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    private readonly IRedisConnection redis;
    private readonly IOptions<EventStreamOptions> options;
    private readonly TimeProvider time;
    private readonly ILogger<StreamLeases> logger;
    private readonly ConcurrentDictionary<Guid, int> held = new();
    /// <summary>Stamped (from one counter) by every take and release, so a rewrite that raced one is done again.</summary>
    private readonly ConcurrentDictionary<Guid, long> changes = new();
    private readonly ConcurrentDictionary<Guid, byte> unsynced = new();
    private int degraded;
    private int heartbeats;
    private int restored;
    private long stamps;
    private bool leased;
    private string instance = NewName();

    public StreamLeases(IRedisConnection redis, IOptions<EventStreamOptions> options, TimeProvider time, ILogger<StreamLeases> logger)
    {
        this.redis = redis;
        this.options = options;
        this.time = time;
        this.logger = logger;
        // A server restarted from its append-only file, or a failover, may have lost recent takes and releases.
        redis.Restored += (_, _) => Interlocked.Exchange(ref restored, 1);
    }

    /// <summary>
    /// This instance's name in the hashes: a new one per start, so a restarted pod never inherits a count, and a new one
    /// whenever what Redis holds under the old one may be wrong (a lapsed lease, a restored connection): the counts under
    /// the old name stop counting with its lease, and this instance's are written afresh under the new one — so a count
    /// for a user it no longer holds cannot outlive the error.
    /// </summary>
    public string Instance => Volatile.Read(ref instance);

    /// <summary>
    /// Takes a place for one more stream of the user: true when the fleet holds fewer than the limit for them (now
    /// counted), false when it holds the limit, null when Redis cannot answer (counted here only, to be written later).
    /// </summary>
    public async Task<bool?> TryTakeAsync(Guid userId, CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxStreamsPerUser;
        if (redis.IsConnected && Volatile.Read(ref degraded) == 0)
        {
            try
            {
                var result = (long)await redis.Database.ScriptEvaluateAsync(TakeScript, [UserKey(userId), GatewaysKey], [Instance, limit, UserKeySeconds])
                    .WaitAsync(Budget, cancellationToken);
                if (result < 0)
                {
                    return false;
                }
                Count(userId, +1);
                return true;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The caller went away: the script may have counted the stream that will not open.
                unsynced[userId] = 0;
                throw;
            }
            catch (Exception e) when (RedisConnection.IsOutage(e))
            {
                Degrade(e.Message);
            }
        }
        Count(userId, +1);
        unsynced[userId] = 0;
        return null;
    }

    /// <summary>Gives back a place <see cref="TryTakeAsync"/> took (also one taken while Redis was unavailable).</summary>
    public async Task ReleaseAsync(Guid userId)
    {
        Count(userId, -1);
        if (unsynced.ContainsKey(userId) || !redis.IsConnected || Volatile.Read(ref degraded) == 1)
        {
            unsynced[userId] = 0;
            return;
        }
        try
        {
            await redis.Database.ScriptEvaluateAsync(ReleaseScript, [UserKey(userId)], [Instance]).WaitAsync(Budget);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            Degrade(e.Message);
            unsynced[userId] = 0;
        }
        finally
        {
            Bump(userId);
        }
    }

    /// <summary>Streams of the user this instance holds, as counted here.</summary>
    public int HeldHere(Guid userId) => held.GetValueOrDefault(userId);

    /// <summary>Renews this instance's lease, and rewrites the counts Redis may have wrong. False when Redis did not answer.</summary>
    public async Task<bool> HeartbeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            var lapsed = await RenewAsync(Instance, cancellationToken);
            if (Interlocked.Exchange(ref restored, 0) == 1 || (lapsed && leased))
            {
                // What Redis holds under this name may be wrong, also for users this instance no longer holds: take a
                // new name, end the old one's lease, and write every count afresh.
                var old = Instance;
                Volatile.Write(ref instance, NewName());
                await RenewAsync(Instance, cancellationToken);
                await redis.Database.HashDeleteAsync(GatewaysKey, old).WaitAsync(Budget, cancellationToken);
                MarkAllUnsynced();
            }
            else if (lapsed || Interlocked.Increment(ref heartbeats) % FullRewriteEvery == 0)
            {
                MarkAllUnsynced();
            }
            leased = true;
            var users = unsynced.Keys.ToArray();
            foreach (var userId in users)
            {
                unsynced.TryRemove(userId, out _);
            }
            var written = await Task.WhenAll(users.Select(userId => RewriteAsync(userId, cancellationToken)));
            if (written.Contains(false))
            {
                return false;
            }
            if (Interlocked.Exchange(ref degraded, 0) == 1)
            {
                LogRestored(logger);
            }
            return true;
        }
        catch (Exception e) when (RedisConnection.IsOutage(e) && !cancellationToken.IsCancellationRequested)
        {
            Degrade(e.Message);
            return false;
        }
    }

    /// <summary>Renews the lease of <paramref name="name"/>: whether it had lapsed (or never existed).</summary>
    private async Task<bool> RenewAsync(string name, CancellationToken cancellationToken) =>
        (long)await redis.Database.ScriptEvaluateAsync(HeartbeatScript, [GatewaysKey], [name, (long)LeaseDuration.TotalMilliseconds])
            .WaitAsync(Budget, cancellationToken) == 1;

    /// <summary>Writes this instance's count of the user; false (and marked again) when Redis did not take it.</summary>
    private async Task<bool> RewriteAsync(Guid userId, CancellationToken cancellationToken)
    {
        var before = changes.GetValueOrDefault(userId);
        try
        {
            await redis.Database.ScriptEvaluateAsync(RewriteScript, [UserKey(userId)], [Instance, HeldHere(userId), UserKeySeconds])
                .WaitAsync(Budget, cancellationToken);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            unsynced[userId] = 0;
            Degrade(e.Message);
            return false;
        }
        if (changes.GetValueOrDefault(userId) != before)
        {
            // A take or release ran alongside: the count written may be off by it.
            unsynced[userId] = 0;
        }
        return true;
    }

    /// <summary>The first heartbeat before the gateway takes streams: other instances then count this one's from the start.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await HeartbeatAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogHeartbeatFailed(logger, e);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(HeartbeatInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await HeartbeatAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever else went wrong, the lease must go on being renewed: a stopped loop would let it lapse.
                LogHeartbeatFailed(logger, e);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // A clean stop ends the lease at once: what this instance held stops counting for everyone.
        try
        {
            await redis.Database.HashDeleteAsync(GatewaysKey, Instance).WaitAsync(Budget, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Out of shutdown time: the lease runs out by itself.
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            Degrade(e.Message);
        }
    }

    private void Count(Guid userId, int delta)
    {
        var count = held.AddOrUpdate(userId, Math.Max(0, delta), (_, current) => Math.Max(0, current + delta));
        if (count == 0)
        {
            held.TryRemove(new KeyValuePair<Guid, int>(userId, 0));
        }
        Bump(userId);
    }

    /// <summary>
    /// A user this instance no longer holds streams of loses the entry (its removal is a change too); stamps come from
    /// one counter, so an entry made again never repeats the stamp a rewrite read before.
    /// </summary>
    private void Bump(Guid userId)
    {
        if (held.ContainsKey(userId))
        {
            changes[userId] = Interlocked.Increment(ref stamps);
        }
        else
        {
            changes.TryRemove(userId, out _);
        }
    }

    private static string NewName() => $"{Environment.MachineName}:{Guid.NewGuid():N}";

    private void MarkAllUnsynced()
    {
        foreach (var userId in held.Keys)
        {
            unsynced[userId] = 0;
        }
    }

    /// <summary>One line when counting falls back to this instance, not one per stream while it does.</summary>
    private void Degrade(string error)
    {
        if (Interlocked.Exchange(ref degraded, 1) == 0)
        {
            LogUnavailable(logger, error);
        }
    }

    private static RedisKey UserKey(Guid userId) => $"{{eventstreams}}:user:{userId:D}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event streams per user are counted on this instance only until Redis answers again: {Error}")]
    private static partial void LogUnavailable(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "The event streams' lease heartbeat failed; it runs again at the next interval")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event streams per user are counted across the gateway instances again")]
    private static partial void LogRestored(ILogger logger);
}
