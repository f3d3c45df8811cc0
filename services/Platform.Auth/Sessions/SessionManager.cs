using System.Linq.Expressions;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Auth.Accounts;
using Platform.Auth.Data;
using Platform.Auth.Tokens;
using Platform.Contracts.Events;
using Platform.Messaging;

namespace Platform.Auth.Sessions;

/// <summary>Which limit ended a session; the <c>reason</c> of <c>auth_sessions_expired_total</c>.</summary>
public enum SessionExpiry
{
    Idle,
    Absolute,
}

public abstract record RefreshOutcome
{
    public sealed record Refreshed(User User, Session Session, string RefreshToken) : RefreshOutcome;

    /// <summary>Unknown, or its session was revoked.</summary>
    public sealed record Rejected : RefreshOutcome;

    /// <summary>A spent token came back: whoever holds the chain may be an attacker, so the session was revoked.</summary>
    public sealed record Reused : RefreshOutcome;

    /// <summary>The session passed its idle timeout or absolute lifetime; it is closed now.</summary>
    public sealed record Expired(SessionExpiry Expiry) : RefreshOutcome;
}

/// <summary>
/// Sessions, their lifetimes and their refresh-token chains. A session is live until it is revoked, goes unused for
/// the idle timeout, or reaches its absolute end. Every revocation also reaches the other services
/// (<see cref="RevocationPropagator"/>); an expiry need not, because no access token outlives it: tokens are capped
/// at the absolute end, and the idle timeout is longer than a token's lifetime (checked at start).
/// Every start, refresh, end and expiry writes its event to the outbox in the transaction that records it.
/// </summary>
public sealed class SessionManager(
    AuthDbContext db,
    RevocationPropagator revocations,
    ActivityCoalescer activity,
    IOptions<TokenOptions> tokenOptions,
    IOptions<SessionOptions> sessionOptions,
    TimeProvider clock,
    AuthMetrics metrics)
{
    /// <summary>The <c>revoked_reason</c> of a session closed by expiry; such a closing needs no propagation.</summary>
    public const string IdleReason = "idle-timeout";

    /// <inheritdoc cref="IdleReason"/>
    public const string AbsoluteReason = "absolute-lifetime";

    private const int CleanupBatchSize = 1000;

    private SessionOptions Lifetimes => sessionOptions.Value;

    /// <summary>
    /// Starts a session for a login that checked the password against <paramref name="checkedPasswordHash"/>; null when
    /// the account changed since the login read it — its password reset or changed, the account disabled or deleted —
    /// so that whatever ended its sessions then cannot be outlived by this one (<see cref="UserRowLock"/>). Reloads
    /// <paramref name="user"/> under the lock: the caller issues the token from the row as it is now.
    /// </summary>
    public async Task<(Session Session, string RefreshToken)?> StartAsync(User user, string checkedPasswordHash, IPAddress? address, string device, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await UserRowLock.ForShareAsync(db, user.Id, cancellationToken) is not { } current
            || !string.Equals(current.PasswordHash, checkedPasswordHash, StringComparison.Ordinal))
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }
        // The row as it is now, under the lock: the token is built from it, so roles an admin removed meanwhile (ending
        // the sessions) are not issued, and the caller tells a disable that came first from a changed password.
        await db.Entry(user).ReloadAsync(cancellationToken);
        if (user.DisabledAt is not null)
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }
        var now = clock.GetUtcNow();
        var session = new Session
        {
            Id = Guid.NewGuid(), UserId = user.Id, CreatedAt = now, LastActivityAt = now, ExpiresAt = now + Lifetimes.AbsoluteLifetime,
            IpAddress = address, Device = device,
        };
        var (token, hash) = OpaqueTokens.Create();
        db.Sessions.Add(session);
        db.RefreshTokens.Add(new RefreshToken { Hash = hash, SessionId = session.Id, CreatedAt = now, ExpiresAt = session.ExpiresAt });
        db.AddEvent(AccountEvents.SessionCreated(user.Id, session.Id, device));
        db.AddEvent(AccountEvents.Login(user.Id, session.Id));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        activity.Recorded(session.Id, now);
        await EvictBeyondCapAsync(user.Id, cancellationToken);
        return (session, token);
    }

    /// <summary>
    /// Spends a refresh token and hands out its successor; a successful refresh is activity. The UPDATE … WHERE
    /// spent_at IS NULL is the single point of decision: of several concurrent presentations of one token, exactly
    /// one finds it unspent. A token of an expired session is spent too — and the session closed — so the caller
    /// learns once, distinctly, that logging in again is the only way on.
    /// </summary>
    public async Task<RefreshOutcome> RefreshAsync(string? presented, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.HashOf(presented) is not { } hash)
        {
            return new RefreshOutcome.Rejected();
        }
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var spent = await db.Database
            .SqlQuery<Guid>($"UPDATE refresh_tokens SET spent_at = {now} WHERE hash = {hash} AND spent_at IS NULL RETURNING session_id AS \"Value\"")
            .ToListAsync(cancellationToken);
        if (spent.Count == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return await RejectAsync(hash, cancellationToken);
        }
        var session = await db.Sessions.SingleAsync(s => s.Id == spent[0], cancellationToken);
        if (session.RevokedAt is not null)
        {
            await transaction.RollbackAsync(cancellationToken);
            return ExpiryFromReason(session.RevokedReason) is { } closedAs ? new RefreshOutcome.Expired(closedAs) : new RefreshOutcome.Rejected();
        }
        if (ExpiryOf(session, now) is { } expiry)
        {
            await CloseAsync(session, expiry, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new RefreshOutcome.Expired(expiry);
        }
        var user = await db.Users.SingleAsync(u => u.Id == session.UserId, cancellationToken);
        if (user.DisabledAt is not null)
        {
            await transaction.RollbackAsync(cancellationToken); // disabling ends the sessions too; this closes the race with it
            return new RefreshOutcome.Rejected();
        }
        var (token, newHash) = OpaqueTokens.Create();
        db.RefreshTokens.Add(new RefreshToken { Hash = newHash, SessionId = session.Id, CreatedAt = now, ExpiresAt = session.ExpiresAt });
        db.AddEvent(AccountEvents.TokenRefreshed(user.Id, session.Id));
        session.LastActivityAt = now;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        activity.Recorded(session.Id, now);
        return new RefreshOutcome.Refreshed(user, session, token);
    }

    /// <summary>
    /// Marks the session active. At most one write per session per <see cref="SessionOptions.ActivityWriteInterval"/>,
    /// across all replicas: the UPDATE only moves a last activity that is at least that old, and this replica's
    /// <see cref="ActivityCoalescer"/> skips the round trip when it knows the stored one is recent. Never revives a
    /// session that has expired or ended. True when this call wrote.
    /// </summary>
    public async Task<bool> RecordActivityAsync(Guid userId, Guid sessionId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (!activity.MayNeedWrite(sessionId, now))
        {
            metrics.ActivityCoalesced();
            return false;
        }
        var writtenBefore = now - Lifetimes.ActivityWriteInterval;
        var idleCutoff = now - Lifetimes.IdleTimeout;
        var written = await db.Database.ExecuteSqlAsync(
            $"""
            UPDATE sessions SET last_activity_at = {now}
            WHERE id = {sessionId} AND user_id = {userId} AND revoked_at IS NULL AND expires_at > {now}
              AND last_activity_at > {idleCutoff} AND last_activity_at <= {writtenBefore}
            """, cancellationToken) == 1;
        // Not written: another replica wrote within the interval (or the session is over); either way nothing to do here for a while.
        activity.Recorded(sessionId, now);
        if (written)
        {
            metrics.ActivityRecorded();
        }
        else
        {
            metrics.ActivityCoalesced();
        }
        return written;
    }

    /// <summary>The user's live sessions, the most recently active first.</summary>
    public Task<List<Session>> ListLiveAsync(Guid userId, CancellationToken cancellationToken) =>
        db.Sessions.AsNoTracking()
            .Where(s => s.UserId == userId)
            .Where(Live(clock.GetUtcNow()))
            .OrderByDescending(s => s.LastActivityAt)
            .ToListAsync(cancellationToken);

    /// <summary>When the session ends unless it is used again: the idle timeout from its last activity, or its absolute end if sooner.</summary>
    public DateTimeOffset EndOf(Session session)
    {
        var idleEnd = session.LastActivityAt + Lifetimes.IdleTimeout;
        return idleEnd < session.ExpiresAt ? idleEnd : session.ExpiresAt;
    }

    /// <summary>Revokes one of the user's live sessions; false when the user has no such session.</summary>
    public async Task<bool> RevokeAsync(Guid userId, Guid sessionId, string reason, CancellationToken cancellationToken) =>
        await RevokeWhereAsync(s => s.UserId == userId && s.Id == sessionId, reason, bulk: false, cancellationToken) > 0;

    /// <summary>Logout: the session ends, and <c>user.logout</c> says the user did it.</summary>
    public async Task LogoutAsync(Guid userId, Guid sessionId, CancellationToken cancellationToken)
    {
        await RevokeWhereAsync(s => s.UserId == userId && s.Id == sessionId, "logout", bulk: false, cancellationToken,
            ended => ended.Count > 0 ? [AccountEvents.Logout(userId, sessionId)] : []);
    }

    public Task<int> RevokeAllExceptAsync(Guid userId, Guid keep, string reason, CancellationToken cancellationToken) =>
        RevokeWhereAsync(s => s.UserId == userId && s.Id != keep, reason, bulk: true, cancellationToken);

    /// <summary>
    /// Ends the user's open sessions (but <paramref name="keep"/>) inside the caller's transaction, with one
    /// <c>sessions.bulk_terminated</c> event; the caller publishes the returned ids with <see cref="RevocationPropagator"/>
    /// once it has committed, so no validator refuses a session that is still open in the record.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> EndAllInTransactionAsync(Guid userId, string reason, CancellationToken cancellationToken, Guid? keep = null)
    {
        // A login holding the row commits its session first; one that comes later finds the change (UserRowLock).
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Ending a user's sessions needs the caller's transaction: the row lock would end with the statement.");
        }
        await UserRowLock.ForUpdateAsync(db, userId, cancellationToken);
        var ended = await EndWhereAsync(s => s.UserId == userId && s.Id != keep, reason, bulk: true, cancellationToken);
        return [.. ended.Select(s => s.Id)];
    }

    /// <summary>Every live session of the user, e.g. when the account is deleted; returns their ids.</summary>
    public async Task<IReadOnlyList<Guid>> LiveSessionIdsAsync(Guid userId, CancellationToken cancellationToken) =>
        await db.Sessions.Where(s => s.UserId == userId && s.RevokedAt == null).Select(s => s.Id).ToListAsync(cancellationToken);

    /// <summary>
    /// Closes sessions past their idle timeout or absolute end, in batches. Every replica runs this; SKIP LOCKED
    /// gives concurrent runs disjoint rows, and only a still-open session is closed, so each is counted once.
    /// </summary>
    public async Task<int> CloseExpiredAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var idleCutoff = now - Lifetimes.IdleTimeout;
        var total = 0;
        List<ClosedSession> closed;
        do
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            closed = await db.Database.SqlQuery<ClosedSession>(
                $"""
                WITH expired AS (
                    SELECT id, CASE WHEN expires_at <= {now} THEN {AbsoluteReason} ELSE {IdleReason} END AS reason
                    FROM sessions
                    WHERE revoked_at IS NULL AND (expires_at <= {now} OR last_activity_at <= {idleCutoff})
                    LIMIT {CleanupBatchSize}
                    FOR UPDATE SKIP LOCKED)
                UPDATE sessions SET revoked_at = {now}, revoked_reason = expired.reason
                FROM expired WHERE sessions.id = expired.id
                RETURNING sessions.id AS "Id", sessions.user_id AS "UserId", expired.reason AS "Reason"
                """).ToListAsync(cancellationToken);
            foreach (var session in closed)
            {
                db.AddEvent(AccountEvents.SessionExpired(session.UserId, session.Id, session.Reason));
            }
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            foreach (var reason in closed.GroupBy(r => r.Reason))
            {
                metrics.SessionsExpired(reason.Key == AbsoluteReason ? SessionExpiry.Absolute : SessionExpiry.Idle, reason.Count());
            }
            total += closed.Count;
        }
        while (closed.Count == CleanupBatchSize);
        return total;
    }

    /// <summary>A row the cleanup closed (SqlQuery binds columns to these properties by name).</summary>
    private sealed class ClosedSession
    {
        public Guid Id { get; set; }

        public Guid UserId { get; set; }

        public string Reason { get; set; } = "";
    }

    private SessionExpiry? ExpiryOf(Session session, DateTimeOffset now) =>
        session.ExpiresAt <= now ? SessionExpiry.Absolute
        : session.LastActivityAt + Lifetimes.IdleTimeout <= now ? SessionExpiry.Idle
        : null;

    /// <summary>Open, not past its absolute end, and used within the idle timeout.</summary>
    private Expression<Func<Session, bool>> Live(DateTimeOffset now)
    {
        var idleCutoff = now - Lifetimes.IdleTimeout;
        return s => s.RevokedAt == null && s.ExpiresAt > now && s.LastActivityAt > idleCutoff;
    }

    /// <summary>Closes the session unless something else (the cleanup job on another replica) just did; counted once either way.</summary>
    private async Task CloseAsync(Session session, SessionExpiry expiry, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var reason = expiry == SessionExpiry.Absolute ? AbsoluteReason : IdleReason;
        if (await db.Sessions.Where(s => s.Id == session.Id && s.RevokedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.RevokedAt, now).SetProperty(s => s.RevokedReason, reason), cancellationToken) == 1)
        {
            db.AddEvent(AccountEvents.SessionExpired(session.UserId, session.Id, reason));
            await db.SaveChangesAsync(cancellationToken);
            metrics.SessionsExpired(expiry);
        }
    }

    /// <summary>A session closed by expiry stays "expired" to its refresh tokens, whoever closed it.</summary>
    private static SessionExpiry? ExpiryFromReason(string? reason) => reason switch
    {
        IdleReason => SessionExpiry.Idle,
        AbsoluteReason => SessionExpiry.Absolute,
        _ => null,
    };

    private async Task<RefreshOutcome> RejectAsync(byte[] hash, CancellationToken cancellationToken)
    {
        var known = await db.RefreshTokens.AsNoTracking().SingleOrDefaultAsync(t => t.Hash == hash, cancellationToken);
        if (known?.SpentAt is null)
        {
            return new RefreshOutcome.Rejected();
        }
        // A token spent by the refresh that found its session expired (or spent before the cleanup closed the session
        // as expired) is not a theft: the session is over either way, and the client is told why, as the first was.
        var closed = await db.Sessions.AsNoTracking().Where(s => s.Id == known.SessionId && s.RevokedAt != null)
            .Select(s => s.RevokedReason).ToListAsync(cancellationToken);
        if (closed.Count == 1 && ExpiryFromReason(closed[0]) is { } expiry)
        {
            return new RefreshOutcome.Expired(expiry);
        }
        await RevokeWhereAsync(s => s.Id == known.SessionId, "refresh-token-reuse", bulk: false, cancellationToken);
        return new RefreshOutcome.Reused();
    }

    /// <summary>Beyond the cap, the least recently active live sessions go (the newest, just started, is the most recent).</summary>
    private async Task EvictBeyondCapAsync(Guid userId, CancellationToken cancellationToken)
    {
        var beyondCap = await db.Sessions
            .Where(s => s.UserId == userId)
            .Where(Live(clock.GetUtcNow()))
            .OrderByDescending(s => s.LastActivityAt).ThenByDescending(s => s.CreatedAt)
            .Skip(tokenOptions.Value.MaxSessionsPerUser)
            .Select(s => s.Id)
            .ToListAsync(cancellationToken);
        if (beyondCap.Count > 0)
        {
            await RevokeWhereAsync(s => beyondCap.Contains(s.Id), "evicted", bulk: false, cancellationToken);
        }
    }

    /// <summary>
    /// Ends the matching open sessions and records why, with their events, in one transaction; then publishes the
    /// revocations. <paramref name="bulk"/>: one <c>sessions.bulk_terminated</c> per user instead of a
    /// <c>session.terminated</c> per session.
    /// </summary>
    private async Task<int> RevokeWhereAsync(Expression<Func<Session, bool>> which, string reason, bool bulk, CancellationToken cancellationToken,
        Func<IReadOnlyList<EndedSession>, IEnumerable<IntegrationEvent>>? moreEvents = null)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var ended = await EndWhereAsync(which, reason, bulk, cancellationToken);
        foreach (var integrationEvent in moreEvents?.Invoke(ended) ?? [])
        {
            db.AddEvent(integrationEvent);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await revocations.PublishAsync([.. ended.Select(s => s.Id)], cancellationToken);
        return ended.Count;
    }

    private sealed record EndedSession(Guid Id, Guid UserId);

    /// <summary>Marks the sessions ended and adds their events to the context; the caller saves and commits.</summary>
    private async Task<IReadOnlyList<EndedSession>> EndWhereAsync(Expression<Func<Session, bool>> which, string reason, bool bulk, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var ended = await db.Sessions.Where(which).Where(s => s.RevokedAt == null).Select(s => new EndedSession(s.Id, s.UserId)).ToListAsync(cancellationToken);
        if (ended.Count == 0)
        {
            return ended;
        }
        var ids = ended.Select(s => s.Id).ToList();
        await db.Sessions.Where(s => ids.Contains(s.Id))
            .ExecuteUpdateAsync(set => set.SetProperty(s => s.RevokedAt, now).SetProperty(s => s.RevokedReason, reason), cancellationToken);
        foreach (var user in ended.GroupBy(s => s.UserId))
        {
            if (bulk)
            {
                db.AddEvent(AccountEvents.SessionsBulkTerminated(user.Key, [.. user.Select(s => s.Id)], reason));
            }
            else
            {
                foreach (var session in user)
                {
                    db.AddEvent(AccountEvents.SessionTerminated(session.UserId, session.Id, reason));
                }
            }
        }
        metrics.SessionRevoked(reason, ended.Count);
        return ended;
    }
}
