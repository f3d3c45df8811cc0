using System.Net;
using System.Security.Cryptography;
using System.Text;
using Platform.Hosting.Http;
using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Auth.Passwords;

/// <summary>
/// Brute-force protection for password checks, in two scopes.
/// <list type="bullet">
/// <item>Per account and client address (an IPv6 client by its /64): the first <see cref="FreeFailures"/> failures cost
/// nothing, each further one blocks that address's attempts on the account for twice as long as the last (1 s, 2 s, 4 s
/// … at most 15 min); its failures are remembered for <see cref="Window"/> past the end of its block, so a guesser
/// who waits out a block goes on at the longest one. Someone guessing from their own address therefore locks out only
/// that address, never the owner elsewhere.</item>
/// <item>Per account: at most <see cref="AccountFailures"/> failures from all addresses together in a fixed window that
/// starts at the first, then the account refuses checks until the window ends. This caps a guesser spread over many
/// addresses; holding an account shut this way takes that many guesses every window, not one.</item>
/// </list>
/// An attempt is reserved before its password is checked and counted when the check ends, in one atomic step each, so
/// a burst of concurrent attempts gets no more checks than one at a time would: an address may have only as many
/// checks in flight as it has free failures left (at least one), the account only as many as its cap leaves. State
/// lives in Redis so all auth replicas share it; while Redis is down each replica keeps it in memory instead.
/// </summary>
public sealed partial class LoginThrottle(IRedisConnection redis, TimeProvider clock, ILogger<LoginThrottle> logger)
{
    public const int FreeFailures = 5;
    public const int AccountFailures = 100;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan MaxBlock = TimeSpan.FromMinutes(15);

    /// <summary>How long a reservation counts if its replica dies before ending it; far above any check's duration.</summary>
    public static readonly TimeSpan InFlightLease = TimeSpan.FromSeconds(30);

    /// <summary>What an attempt refused only because another one is in flight is told to wait.</summary>
    public static readonly TimeSpan InFlightRetry = TimeSpan.FromSeconds(1);

    // KEYS: address failures, address blocked, address in flight, account failures, account in flight. The in-flight
    // sets hold one member per reservation, scored with its expiry, so a reservation whose replica died expires by
    // itself however many come after it.
    private const string BeginScript = """
        local blocked = redis.call('PTTL', KEYS[2])
        if blocked > 0 then return blocked end
        local free, accountLimit, lease, retry = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
        redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
        local accountFailures = tonumber(redis.call('GET', KEYS[4]) or '0')
        if accountFailures >= accountLimit then
          local window = redis.call('PTTL', KEYS[4])
          if window > 0 then return window end
          return retry
        end
        if accountFailures + redis.call('ZCARD', KEYS[5]) >= accountLimit then return retry end
        local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
        if redis.call('ZCARD', KEYS[3]) >= math.max(1, free - failures) then return retry end
        redis.call('ZADD', KEYS[3], now + lease, ARGV[5])
        redis.call('PEXPIRE', KEYS[3], lease)
        redis.call('ZADD', KEYS[5], now + lease, ARGV[5])
        redis.call('PEXPIRE', KEYS[5], lease)
        return 0
        """;

    // ARGV[1]: 'failed', 'succeeded' or 'unchecked'; ARGV[5]: '1' when Begin reserved in Redis, ARGV[6] as whom. An
    // address's failures are kept for a window past its block, so the next failure after a block escalates it.
    private const string EndScript = """
        if ARGV[5] == '1' then
          redis.call('ZREM', KEYS[3], ARGV[6])
          redis.call('ZREM', KEYS[5], ARGV[6])
        end
        if ARGV[1] == 'failed' then
          local window, free = tonumber(ARGV[2]), tonumber(ARGV[3])
          local failures = redis.call('INCR', KEYS[1])
          local block = 0
          if failures > free then
            block = math.min(1000 * 2 ^ (failures - free - 1), tonumber(ARGV[4]))
            redis.call('SET', KEYS[2], '1', 'PX', block)
          end
          redis.call('PEXPIRE', KEYS[1], block + window)
          if redis.call('INCR', KEYS[4]) == 1 or redis.call('PTTL', KEYS[4]) < 0 then
            redis.call('PEXPIRE', KEYS[4], window)
          end
        elseif ARGV[1] == 'succeeded' then
          redis.call('DEL', KEYS[1], KEYS[2])
        end
        return 0
        """;

    private readonly LoginThrottleMemory memory = new(clock);

    /// <summary>
    /// Reserves a password check of <paramref name="emailNormalized"/> from <paramref name="client"/>; the caller
    /// checks only if the attempt is allowed, and ends it with its outcome (disposing it unended releases it uncounted).
    /// </summary>
    public async Task<LoginAttempt> BeginAsync(string emailNormalized, IPAddress? client)
    {
        var keys = ThrottleKeys.Of(emailNormalized, client);
        var reservation = Guid.NewGuid().ToString("N");
        if (!redis.IsConnected)
        {
            return new LoginAttempt(this, keys, reservation, memory.Begin(keys), ReservedIn.Memory); // down or hung: no wait for a timeout
        }
        try
        {
            var wait = (long)await redis.Database.ScriptEvaluateAsync(BeginScript, keys.All,
                [FreeFailures, AccountFailures, (long)InFlightLease.TotalMilliseconds, (long)InFlightRetry.TotalMilliseconds, reservation]);
            return new LoginAttempt(this, keys, reservation, TimeSpan.FromMilliseconds(wait), ReservedIn.Redis);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            LogRedisDown(logger, e);
            return new LoginAttempt(this, keys, reservation, memory.Begin(keys), ReservedIn.Memory);
        }
    }

    /// <summary>After a password reset: the account's own count starts again, and so does the resetting address's.</summary>
    public async Task ClearAsync(string emailNormalized, IPAddress? client)
    {
        var keys = ThrottleKeys.Of(emailNormalized, client);
        memory.Clear(keys);
        try
        {
            await redis.Database.KeyDeleteAsync([keys.AddressFailures, keys.AddressBlocked, keys.AccountFailures]);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            LogRedisDown(logger, e);
        }
    }

    internal async Task EndAsync(ThrottleKeys keys, string reservation, ReservedIn reservedIn, LoginOutcome outcome)
    {
        if (reservedIn == ReservedIn.Memory)
        {
            memory.End(keys, outcome, reserved: true);
            return;
        }
        try
        {
            await redis.Database.ScriptEvaluateAsync(EndScript, keys.All,
                [Name(outcome), (long)Window.TotalMilliseconds, FreeFailures, (long)MaxBlock.TotalMilliseconds, reservedIn == ReservedIn.Redis ? "1" : "0", reservation]);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            // Reserved in Redis, which went away meanwhile: the reservation expires there by itself, the failure counts here.
            LogRedisDown(logger, e);
            memory.End(keys, outcome, reserved: false);
        }
    }

    private static string Name(LoginOutcome outcome) => outcome switch
    {
        LoginOutcome.Failed => "failed",
        LoginOutcome.Succeeded => "succeeded",
        _ => "unchecked",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unavailable for login throttling; using this replica's memory")]
    private static partial void LogRedisDown(ILogger logger, Exception exception);
}

public enum LoginOutcome
{
    /// <summary>The password was wrong, or the account unknown.</summary>
    Failed,

    /// <summary>The password was right: the address's failures are forgiven.</summary>
    Succeeded,

    /// <summary>No answer about the password was given (overloaded, cancelled, failed): nothing counts.</summary>
    Unchecked,
}

internal enum ReservedIn
{
    Redis,
    Memory,
}

/// <summary>One reserved password check. Disposing it without an outcome releases it as unchecked.</summary>
public sealed class LoginAttempt : IAsyncDisposable
{
    private readonly LoginThrottle throttle;
    private readonly ThrottleKeys keys;
    private readonly string reservation;
    private readonly ReservedIn reservedIn;
    private bool ended;

    internal LoginAttempt(LoginThrottle throttle, ThrottleKeys keys, string reservation, TimeSpan retryAfter, ReservedIn reservedIn)
    {
        this.throttle = throttle;
        this.keys = keys;
        this.reservation = reservation;
        this.reservedIn = reservedIn;
        RetryAfter = retryAfter > TimeSpan.Zero ? retryAfter : TimeSpan.Zero;
        ended = !Allowed; // a refused attempt reserved nothing
    }

    /// <summary>How long until this client may try this account again; zero when this attempt may check.</summary>
    public TimeSpan RetryAfter { get; }

    public bool Allowed => RetryAfter == TimeSpan.Zero;

    public Task FailedAsync() => EndAsync(LoginOutcome.Failed);

    public Task SucceededAsync() => EndAsync(LoginOutcome.Succeeded);

    public async ValueTask DisposeAsync() => await EndAsync(LoginOutcome.Unchecked);

    private Task EndAsync(LoginOutcome outcome)
    {
        if (ended)
        {
            return Task.CompletedTask;
        }
        ended = true;
        return throttle.EndAsync(keys, reservation, reservedIn, outcome);
    }
}

/// <summary>
/// Redis keys of one account and client address. Names carry hashes, not the address or the e-mail (no personal data
/// in key names), and one hash tag, so a script's keys share a slot on a Redis Cluster too.
/// </summary>
internal sealed record ThrottleKeys(RedisKey AddressFailures, RedisKey AddressBlocked, RedisKey AddressInFlight, RedisKey AccountFailures, RedisKey AccountInFlight)
{
    public RedisKey[] All => [AddressFailures, AddressBlocked, AddressInFlight, AccountFailures, AccountInFlight];

    public static ThrottleKeys Of(string emailNormalized, IPAddress? client)
    {
        var account = Hash(emailNormalized);
        var address = Hash(emailNormalized + "\n" + ClientScope.Of(client));
        var prefix = "login:{" + account + "}:";
        return new ThrottleKeys(prefix + "failures:" + address, prefix + "blocked:" + address, prefix + "inflight:" + address,
            prefix + "failures", prefix + "inflight");
    }

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)), 0, 16);
}
