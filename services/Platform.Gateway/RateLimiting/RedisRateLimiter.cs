using Platform.ServiceDefaults.Redis;
using StackExchange.Redis;

namespace Platform.Gateway.RateLimiting;

/// <summary>
/// The GCRA as one Lua script per decision, so every gateway instance draws on one budget per client and two
/// concurrent requests cannot both take the last permit. The script reads Redis' own clock, so instances with
/// skewed clocks still agree. Lua numbers are doubles: microsecond timestamps (~2^51) stay exact.
/// </summary>
public sealed class RedisRateLimiter(IRedisConnection redis)
{
    private const string Script = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local interval = tonumber(ARGV[1])
        local tolerance = tonumber(ARGV[2])
        local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
        if tat - now > tolerance then
          return {0, tat - now}
        end
        local new_tat = tat + interval
        redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
        return {1, new_tat - now}
        """;

    public bool IsConnected => redis.IsConnected;

    /// <summary>Throws what the Redis client throws; the caller decides what an outage means.</summary>
    public async Task<RateLimitDecision> AcquireAsync(string key, Gcra gcra)
    {
        var result = (RedisResult[])(await redis.Database.ScriptEvaluateAsync(Script, [key], [gcra.Interval, gcra.Tolerance]))!;
        var ahead = (long)result[1];
        return (long)result[0] == 1 ? gcra.Allowed(ahead) : gcra.Denied(ahead);
    }
}
