using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Gateway.RateLimiting;

/// <summary>
/// The GCRA as one Lua script per decision, so every gateway instance draws on one budget per client and two
/// concurrent requests cannot both take the last permit. A decision may take several permits at once (up to
/// <c>want</c>, as many as the budget has): the caller hands them out locally, so a busy client costs a Redis
/// round trip per batch rather than per request, and every admitted request was still charged here. The script
/// reads Redis' own clock, so instances with skewed clocks agree. Lua numbers are doubles: microsecond timestamps
/// (~2^51) stay exact.
/// </summary>
public sealed class RedisRateLimiter(IRedisConnection redis)
{
    private const string Script = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local interval = tonumber(ARGV[1])
        local tolerance = tonumber(ARGV[2])
        local want = tonumber(ARGV[3])
        local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
        local room = math.floor((tolerance + interval - (tat - now)) / interval)
        if room < 1 then
          return {0, tat - now}
        end
        local granted = math.min(room, want)
        local new_tat = tat + granted * interval
        redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
        return {granted, new_tat - now}
        """;

    public bool IsConnected => redis.IsConnected;

    /// <summary>
    /// Takes up to <paramref name="want"/> permits: how many were granted (0: refused) and the decision for the
    /// first of them. Throws what the Redis client throws; the caller decides what an outage means.
    /// </summary>
    public async Task<(int Granted, RateLimitDecision Decision)> AcquireAsync(string key, Gcra gcra, int want)
    {
        var result = (RedisResult[])(await redis.Database.ScriptEvaluateAsync(Script, [key], [gcra.Interval, gcra.Tolerance, want]))!;
        var granted = (int)(long)result[0];
        var ahead = (long)result[1];
        return (granted, granted > 0 ? gcra.Allowed(ahead) : gcra.Denied(ahead));
    }
}
