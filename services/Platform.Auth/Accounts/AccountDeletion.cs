using Microsoft.EntityFrameworkCore;
using Platform.Auth.Data;
using Platform.Auth.Sessions;
using Platform.Contracts.Events;
using Platform.Messaging;

namespace Platform.Auth.Accounts;

/// <summary>
/// Deleting an account, whoever asks (the user or an admin): its sessions end (<c>sessions.bulk_terminated</c>), the
/// row goes, and <c>user.deleted</c> tells the other services to purge the user's data — all in the caller's
/// transaction. The caller publishes the returned session ids after committing. The revocations (these and any earlier
/// one, e.g. a logout whose publishing Redis refused) are kept in <c>deleted_user_sessions</c>, since the cascade takes
/// the session rows <see cref="RevocationPropagator"/> would otherwise re-publish them from.
/// </summary>
public static class AccountDeletion
{
    public static async Task<IReadOnlyList<Guid>> DeleteInTransactionAsync(AuthDbContext db, SessionManager sessions, Guid userId, CancellationToken cancellationToken)
    {
        var ended = await sessions.EndAllInTransactionAsync(userId, "account-deleted", cancellationToken);
        await db.SaveChangesAsync(cancellationToken); // the session events, before the cascade removes what they describe
        await db.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO deleted_user_sessions (session_id, revoked_at)
            SELECT id, revoked_at FROM sessions
            WHERE user_id = {userId} AND revoked_at IS NOT NULL AND revoked_reason NOT IN ({SessionManager.IdleReason}, {SessionManager.AbsoluteReason})
            ON CONFLICT (session_id) DO NOTHING
            """, cancellationToken);
        await db.Users.Where(u => u.Id == userId).ExecuteDeleteAsync(cancellationToken);
        db.AddEvent(AccountEvents.Create(EventTypes.UserDeleted, new { userId }));
        return ended;
    }
}
