using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Auth.Passwords;

/// <summary>
/// Per-account brute-force protection: the first <see cref="FreeFailures"/> failures in a window cost nothing,
/// each further one blocks the account's logins for twice as long as the last (1 s, 2 s, 4 s … at most 15 min).
/// Every block expires by itself, so nobody can lock another user out for good. State lives in Redis so all
/// auth replicas share it; while Redis is down each replica keeps it in memory instead.
/// </summary>
public sealed partial class LoginThrottle(IRedisConnection redis, TimeProvider clock, ILogger<LoginThrottle> logger) : IDisposable
{
    public const int FreeFailures = 5;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan MaxBlock = TimeSpan.FromMinutes(15);

    private const string RecordFailureScript = """
        local failures = redis.call('INCR', KEYS[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        local free = tonumber(ARGV[2])
        if failures > free then
          local block = math.min(1000 * 2 ^ (failures - free - 1), tonumber(ARGV[3]))
          redis.call('SET', KEYS[2], '1', 'PX', block)
          return block
        end
        return 0
        """;

    private readonly MemoryCache fallback = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    private readonly Lock fallbackGate = new();

    /// <summary>How long logins to this account are still blocked; zero when they are not.</summary>
    public async Task<TimeSpan> BlockedForAsync(string emailNormalized)
    {
        var (failures, blocked) = Keys(emailNormalized);
        try
        {
            var remaining = await redis.Database.KeyTimeToLiveAsync(blocked);
            return remaining is { } ttl && ttl > TimeSpan.Zero ? ttl : TimeSpan.Zero;
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            LogRedisDown(logger, e);
            return fallback.TryGetValue(failures.ToString(), out MemoryState? state) && state!.BlockedUntil > clock.GetUtcNow()
                ? state.BlockedUntil - clock.GetUtcNow()
                : TimeSpan.Zero;
        }
    }

    public async Task RecordFailureAsync(string emailNormalized)
    {
        var (failures, blocked) = Keys(emailNormalized);
        try
        {
            await redis.Database.ScriptEvaluateAsync(RecordFailureScript, [failures, blocked],
                [(long)Window.TotalMilliseconds, FreeFailures, (long)MaxBlock.TotalMilliseconds]);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            LogRedisDown(logger, e);
            RecordFailureInMemory(failures.ToString());
        }
    }

    public async Task ResetAsync(string emailNormalized)
    {
        var (failures, blocked) = Keys(emailNormalized);
        fallback.Remove(failures.ToString());
        try
        {
            await redis.Database.KeyDeleteAsync([failures, blocked]);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            LogRedisDown(logger, e);
        }
    }

    public void Dispose() => fallback.Dispose();

    private void RecordFailureInMemory(string key)
    {
        lock (fallbackGate)
        {
            RecordFailureInMemoryUnderLock(key);
        }
    }

    private void RecordFailureInMemoryUnderLock(string key)
    {
        var now = clock.GetUtcNow();
        var state = fallback.TryGetValue(key, out MemoryState? existing) && existing!.WindowEnds > now ? existing : new MemoryState { WindowEnds = now + Window };
        state.Failures++;
        if (state.Failures > FreeFailures)
        {
            var block = TimeSpan.FromMilliseconds(Math.Min(1000 * Math.Pow(2, state.Failures - FreeFailures - 1), MaxBlock.TotalMilliseconds));
            state.BlockedUntil = now + block;
        }
        fallback.Set(key, state, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = state.WindowEnds > state.BlockedUntil ? state.WindowEnds : state.BlockedUntil });
    }

    /// <summary>Keys carry a hash of the address, not the address: no personal data in Redis key names.</summary>
    private static (RedisKey Failures, RedisKey Blocked) Keys(string emailNormalized)
    {
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(emailNormalized)), 0, 16);
        return ("login:failures:" + id, "login:blocked:" + id);
    }

    private sealed class MemoryState
    {
        public int Failures { get; set; }

        public DateTimeOffset WindowEnds { get; set; }

        public DateTimeOffset BlockedUntil { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unavailable for login throttling; using this replica's memory")]
    private static partial void LogRedisDown(ILogger logger, Exception exception);
}
