using System.Globalization;
using StackExchange.Redis;
using Platform.Redis;

namespace Platform.Authentication;

/// <summary>
/// The Redis contract for session revocations (docs/architecture.md §8.1) and its publishing side, which the auth
/// service calls on logout, on refresh-token reuse and when a session is deleted:
/// <list type="bullet">
/// <item><c>SET revoked:session:{sid} {unix seconds until which it matters} EX {ttl}</c>, so a validator that
/// (re)connects finds every revocation still in force by <c>SCAN revoked:session:*</c>;</item>
/// <item><c>PUBLISH auth:revocations {sid}</c>, so connected validators refuse the session at once.</item>
/// </list>
/// The sid is a UUID in its 36-character form.
/// </summary>
public sealed class SessionRevocations
{
    public const string KeyPrefix = "revoked:session:";
    public const string Channel = "auth:revocations";

    private readonly IRedisConnection redis;
    private readonly RevokedSessions local;
    private readonly TimeProvider time;

    internal SessionRevocations(IRedisConnection redis, RevokedSessions local, TimeProvider time)
    {
        this.redis = redis;
        this.local = local;
        this.time = time;
    }

    internal static RedisChannel RedisChannelName { get; } = RedisChannel.Literal(Channel);

    /// <summary>
    /// Raised as soon as this process learns that a session is revoked (from auth's message, a resync from Redis or
    /// its own publishing), so long-lived answers such as an event stream can end within the same bound as requests.
    /// </summary>
    public event Action<Guid>? Revoked
    {
        add => local.Revoked += value;
        remove => local.Revoked -= value;
    }

    /// <summary>Whether this process currently refuses the session's tokens.</summary>
    public bool IsRevoked(Guid sessionId) => local.IsRevoked(sessionId);

    private static RedisKey KeyFor(Guid sessionId) => KeyPrefix + sessionId.ToString("D");

    /// <summary>
    /// Revokes a session everywhere for <paramref name="ttl"/> — the access-token lifetime plus clock skew:
    /// after that no token of the session can be valid anyway. This process refuses the session at once even
    /// if Redis is down; the call then throws a <see cref="RedisException"/> and the caller must not report
    /// the revocation as done, because other services have not heard of it.
    /// </summary>
    public async Task PublishAsync(Guid sessionId, TimeSpan ttl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        var until = time.GetUtcNow() + ttl;
        local.Revoke(sessionId, until);
        if (!redis.IsConnected)
        {
            // Down, or hung (unanswered pings): sent unawaited in case Redis is only slow, and reported as not done at
            // once instead of after the command timeout, so the caller leaves it to the propagator's retries.
            try
            {
                _ = redis.Database.StringSetAsync(KeyFor(sessionId), until.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ttl, flags: CommandFlags.FireAndForget);
                _ = redis.Subscriber.PublishAsync(RedisChannelName, sessionId.ToString("D"), CommandFlags.FireAndForget);
            }
            catch (Exception e) when (RedisConnection.IsOutage(e))
            {
                // refused at once, as the exception below says
            }
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not answering; the revocation may not be published");
        }
        var database = redis.Database;
        await database.StringSetAsync(KeyFor(sessionId), until.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ttl);
        await redis.Subscriber.PublishAsync(RedisChannelName, sessionId.ToString("D"));
    }

    /// <summary>
    /// Writes a revocation's key again if Redis no longer holds it (evicted under memory pressure, or a Redis that came
    /// back empty), without a message: running validators hold it in memory already; the key is for the ones that
    /// start later and learn past revocations only by <c>SCAN</c>. True when the key was missing.
    /// </summary>
    public async Task<bool> ReassertAsync(Guid sessionId, TimeSpan ttl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        var until = time.GetUtcNow() + ttl;
        return await redis.Database.StringSetAsync(KeyFor(sessionId), until.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ttl, When.NotExists);
    }
}
