using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Auth.Data;
using Platform.Auth.Tokens;

namespace Platform.Auth.Sessions;

public abstract record RefreshOutcome
{
    public sealed record Refreshed(User User, Session Session, string RefreshToken) : RefreshOutcome;

    /// <summary>Unknown, expired, or its session is over.</summary>
    public sealed record Rejected : RefreshOutcome;

    /// <summary>A spent token came back: whoever holds the chain may be an attacker, so the session was revoked.</summary>
    public sealed record Reused : RefreshOutcome;
}

/// <summary>Sessions and their refresh-token chains. Every revocation also reaches the other services (<see cref="RevocationPropagator"/>).</summary>
public sealed class SessionManager(AuthDbContext db, RevocationPropagator revocations, IOptions<TokenOptions> options, TimeProvider clock, AuthMetrics metrics)
{
    private TokenOptions Settings => options.Value;

    public async Task<(Session Session, string RefreshToken)> StartAsync(User user, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var session = new Session { Id = Guid.NewGuid(), UserId = user.Id, CreatedAt = now, LastUsedAt = now, ExpiresAt = now + Settings.RefreshTokenLifetime };
        var (token, hash) = RefreshTokens.Create();
        db.Sessions.Add(session);
        db.RefreshTokens.Add(new RefreshToken { Hash = hash, SessionId = session.Id, CreatedAt = now, ExpiresAt = session.ExpiresAt });
        await db.SaveChangesAsync(cancellationToken);
        await EvictBeyondCapAsync(user.Id, cancellationToken);
        return (session, token);
    }

    /// <summary>
    /// Spends a refresh token and hands out its successor. The UPDATE … WHERE spent_at IS NULL is the single point
    /// of decision: of several concurrent presentations of one token, exactly one finds it unspent.
    /// </summary>
    public async Task<RefreshOutcome> RefreshAsync(string? presented, CancellationToken cancellationToken)
    {
        if (RefreshTokens.HashOf(presented) is not { } hash)
        {
            return new RefreshOutcome.Rejected();
        }
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var spent = await db.Database
            .SqlQuery<Guid>($"UPDATE refresh_tokens SET spent_at = {now} WHERE hash = {hash} AND spent_at IS NULL AND expires_at > {now} RETURNING session_id AS \"Value\"")
            .ToListAsync(cancellationToken);
        if (spent.Count == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return await RejectAsync(hash, cancellationToken);
        }
        var session = await db.Sessions.SingleAsync(s => s.Id == spent[0], cancellationToken);
        if (session.RevokedAt is not null || session.ExpiresAt <= now)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new RefreshOutcome.Rejected();
        }
        var user = await db.Users.SingleAsync(u => u.Id == session.UserId, cancellationToken);
        var (token, newHash) = RefreshTokens.Create();
        db.RefreshTokens.Add(new RefreshToken { Hash = newHash, SessionId = session.Id, CreatedAt = now, ExpiresAt = session.ExpiresAt });
        session.LastUsedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RefreshOutcome.Refreshed(user, session, token);
    }

    public Task<List<Session>> ListLiveAsync(Guid userId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return db.Sessions.AsNoTracking()
            .Where(s => s.UserId == userId && s.RevokedAt == null && s.ExpiresAt > now)
            .OrderByDescending(s => s.LastUsedAt)
            .ToListAsync(cancellationToken);
    }

    /// <summary>Revokes one of the user's live sessions; false when the user has no such session.</summary>
    public async Task<bool> RevokeAsync(Guid userId, Guid sessionId, string reason, CancellationToken cancellationToken) =>
        await RevokeWhereAsync(s => s.UserId == userId && s.Id == sessionId, reason, cancellationToken) > 0;

    public Task<int> RevokeAllExceptAsync(Guid userId, Guid keep, string reason, CancellationToken cancellationToken) =>
        RevokeWhereAsync(s => s.UserId == userId && s.Id != keep, reason, cancellationToken);

    /// <summary>Every live session of the user, e.g. when the account is deleted; returns their ids.</summary>
    public async Task<IReadOnlyList<Guid>> LiveSessionIdsAsync(Guid userId, CancellationToken cancellationToken) =>
        await db.Sessions.Where(s => s.UserId == userId && s.RevokedAt == null).Select(s => s.Id).ToListAsync(cancellationToken);

    private async Task<RefreshOutcome> RejectAsync(byte[] hash, CancellationToken cancellationToken)
    {
        var known = await db.RefreshTokens.AsNoTracking().SingleOrDefaultAsync(t => t.Hash == hash, cancellationToken);
        if (known?.SpentAt is null)
        {
            return new RefreshOutcome.Rejected();
        }
        await RevokeWhereAsync(s => s.Id == known.SessionId, "refresh-token-reuse", cancellationToken);
        return new RefreshOutcome.Reused();
    }

    private async Task EvictBeyondCapAsync(Guid userId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var beyondCap = await db.Sessions
            .Where(s => s.UserId == userId && s.RevokedAt == null && s.ExpiresAt > now)
            .OrderByDescending(s => s.CreatedAt)
            .Skip(Settings.MaxSessionsPerUser)
            .Select(s => s.Id)
            .ToListAsync(cancellationToken);
        if (beyondCap.Count > 0)
        {
            await RevokeWhereAsync(s => beyondCap.Contains(s.Id), "evicted", cancellationToken);
        }
    }

    private async Task<int> RevokeWhereAsync(System.Linq.Expressions.Expression<Func<Session, bool>> which, string reason, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var revoked = await db.Sessions.Where(which).Where(s => s.RevokedAt == null).Select(s => s.Id).ToListAsync(cancellationToken);
        if (revoked.Count == 0)
        {
            return 0;
        }
        await db.Sessions.Where(s => revoked.Contains(s.Id))
            .ExecuteUpdateAsync(set => set.SetProperty(s => s.RevokedAt, now).SetProperty(s => s.RevokedReason, reason), cancellationToken);
        await revocations.PublishAsync(revoked, cancellationToken);
        metrics.SessionRevoked(reason, revoked.Count);
        return revoked.Count;
    }
}
