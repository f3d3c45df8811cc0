using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Auth.Data;
using Platform.Authentication;
using Platform.Data;
using Platform.Hosting.Hosting;
using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Auth.Sessions;

/// <summary>
/// Carries session revocations from PostgreSQL (the record) to every validator (through Redis). A revocation is
/// published at once; if Redis does not take it, the revocation is still recorded and this propagator keeps
/// re-publishing every session revoked within the last token lifetime until Redis accepts — also once at start,
/// so an auth restart during a Redis outage loses nothing, and again whenever the connection to Redis comes back
/// (it may have come back empty). Publishing is idempotent (a key with a TTL).
/// A revocation's key is written once and never read until a validator starts, so under memory pressure Redis may
/// evict it (volatile-lru) long before its TTL; every <see cref="TokenOptions.RevocationReassertSeconds"/> the
/// propagator writes again the keys of recent revocations that Redis no longer holds. Without that, a pod started
/// after the eviction (a scale-up, a rollout) accepted a logged-out session's tokens until they expired.
/// </summary>
public sealed partial class RevocationPropagator(
    SessionRevocations revocations,
    IRedisConnection redis,
    PrimaryDatabase database,
    IServiceScopeFactory scopes,
    IOptions<TokenOptions> tokens,
    TimeProvider clock,
    ILogger<RevocationPropagator> logger) : BackgroundLoop
{
    /// <summary>Covers any validator's clock skew on top of the access-token lifetime.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);
    private const int ReassertBatch = 1_000;

    private volatile bool behind = true;

    /// <summary>How long after its revocation a session's tokens may still be valid somewhere.</summary>
    public TimeSpan Relevance => tokens.Value.AccessTokenLifetime + Margin;

    public async Task PublishAsync(IReadOnlyCollection<Guid> sessionIds, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var sessionId in sessionIds)
            {
                await revocations.PublishAsync(sessionId, Relevance);
            }
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            behind = true;
            LogDeferred(logger, e, sessionIds.Count);
        }
    }

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        EventHandler onRestored = (_, _) => behind = true;
        redis.Restored += onRestored;
        try
        {
            var reassertEvery = TimeSpan.FromSeconds(tokens.Value.RevocationReassertSeconds);
            var reassertAt = clock.GetUtcNow() + reassertEvery;
            using var timer = new PeriodicTimer(RetryInterval, clock);
            do
            {
                if (behind)
                {
                    await CatchUpAsync(stoppingToken);
                    reassertAt = clock.GetUtcNow() + reassertEvery;
                }
                else if (clock.GetUtcNow() >= reassertAt)
                {
                    await ReassertAsync(reassertEvery, stoppingToken);
                    reassertAt = clock.GetUtcNow() + reassertEvery;
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        finally
        {
            redis.Restored -= onRestored;
        }
    }

    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        behind = false;
        try
        {
            var now = clock.GetUtcNow();
            var recent = await RecentAsync(now, cancellationToken);
            foreach (var session in recent)
            {
                await revocations.PublishAsync(session.Id, session.RevokedAt + Relevance - now);
            }
            if (recent.Count > 0)
            {
                LogCaughtUp(logger, recent.Count);
            }
        }
        catch (Exception e) when (RedisConnection.IsOutage(e) || e is Npgsql.NpgsqlException)
        {
            behind = true;
            LogStillBehind(logger, e);
        }
    }

    /// <summary>
    /// One pass a period for the whole platform, not one per auth replica: the replica that takes the turn (a Redis key
    /// per auth database that lasts a little less than the period; a Redis that lost its data lost the turn too) reads
    /// the recent revocations and writes the missing ones, pipelined a batch at a time.
    /// </summary>
    private async Task ReassertAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        try
        {
            var turn = period > TimeSpan.FromSeconds(2) ? period - TimeSpan.FromSeconds(1) : period;
            if (!await redis.Database.StringSetAsync($"auth:revocations:reassert-turn:{database.Name}", Environment.MachineName, turn, When.NotExists))
            {
                return;
            }
            var now = clock.GetUtcNow();
            var missing = 0;
            foreach (var batch in (await RecentAsync(now, cancellationToken)).Chunk(ReassertBatch))
            {
                var written = await Task.WhenAll(batch
                    .Select(session => (session.Id, Ttl: session.RevokedAt + Relevance - now))
                    .Where(session => session.Ttl > TimeSpan.Zero)
                    .Select(session => revocations.ReassertAsync(session.Id, session.Ttl)));
                missing += written.Count(wasMissing => wasMissing);
            }
            if (missing > 0)
            {
                LogReasserted(logger, missing);
            }
        }
        catch (Exception e) when (RedisConnection.IsOutage(e) || e is Npgsql.NpgsqlException)
        {
            behind = true;
            LogStillBehind(logger, e);
        }
    }

    /// <summary>The revocations whose tokens may still be valid somewhere.</summary>
    public async Task<List<Revocation>> RecentAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var since = now - Relevance;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        var recent = await db.Sessions.AsNoTracking()
            .Where(s => s.RevokedAt > since)
            .Where(s => s.RevokedReason != SessionManager.IdleReason && s.RevokedReason != SessionManager.AbsoluteReason) // no token outlives an expiry
            .Select(s => new Revocation(s.Id, s.RevokedAt!.Value))
            .ToListAsync(cancellationToken);
        // Deleted accounts' sessions are gone from that table (AccountDeletion keeps their revocations here).
        recent.AddRange(await db.Database.SqlQuery<Revocation>(
            $"""SELECT session_id AS "Id", revoked_at AS "RevokedAt" FROM deleted_user_sessions WHERE revoked_at > {since}""").ToListAsync(cancellationToken));
        return recent;
    }

    public sealed record Revocation(Guid Id, DateTimeOffset RevokedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis did not take {Count} session revocations; they are recorded and will be re-published")]
    private static partial void LogDeferred(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-published {Count} recent session revocations")]
    private static partial void LogCaughtUp(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis had lost {Count} recent session revocations (evicted, or it came back empty); they were written again")]
    private static partial void LogReasserted(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session revocations are still not published; retrying")]
    private static partial void LogStillBehind(ILogger logger, Exception exception);
}
