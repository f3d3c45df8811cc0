using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Auth.Data;
using Platform.Authentication;
using Platform.Hosting.Hosting;
using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Auth.Sessions;

/// <summary>
/// Carries session revocations from PostgreSQL (the record) to every validator (through Redis). A revocation is
/// published at once; if Redis does not take it, the revocation is still recorded and this propagator keeps
/// re-publishing every session revoked within the last token lifetime until Redis accepts — also once at start,
/// so an auth restart during a Redis outage loses nothing. Publishing is idempotent (a key with a TTL).
/// </summary>
public sealed partial class RevocationPropagator(
    SessionRevocations revocations,
    IServiceScopeFactory scopes,
    IOptions<TokenOptions> tokens,
    TimeProvider clock,
    ILogger<RevocationPropagator> logger) : BackgroundLoop
{
    /// <summary>Covers any validator's clock skew on top of the access-token lifetime.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    private volatile bool behind = true;

    private TimeSpan Relevance => tokens.Value.AccessTokenLifetime + Margin;

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
        using var timer = new PeriodicTimer(RetryInterval, clock);
        do
        {
            if (behind)
            {
                await CatchUpAsync(stoppingToken);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        behind = false;
        try
        {
            var now = clock.GetUtcNow();
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

    private sealed record Revocation(Guid Id, DateTimeOffset RevokedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis did not take {Count} session revocations; they are recorded and will be re-published")]
    private static partial void LogDeferred(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-published {Count} recent session revocations")]
    private static partial void LogCaughtUp(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session revocations are still not published; retrying")]
    private static partial void LogStillBehind(ILogger logger, Exception exception);
}
