using Microsoft.EntityFrameworkCore;
using Platform.Auth.Data;

namespace Platform.Auth.Admin;

/// <summary>
/// The platform keeps at least one active admin: disabling, demoting or deleting the last one is refused (409).
/// Changes that could remove an admin run one at a time (a transaction-level advisory lock, taken before any row
/// lock so they cannot deadlock), so two admins demoting each other at once cannot both succeed: the second
/// sees the first's commit and finds itself last.
/// </summary>
public static class LastAdminGuard
{
    private const long AdminChangesLockKey = 0x6175_7468_6164_6d6e; // "authadmn"

    /// <summary>Holds the admin-changes lock until the current transaction ends.</summary>
    public static async Task SerializeAdminChangesAsync(AuthDbContext db, CancellationToken cancellationToken)
    {
        RequireTransaction(db);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AdminChangesLockKey})", cancellationToken);
    }

    /// <summary>Call after <see cref="SerializeAdminChangesAsync"/>, in the same transaction.</summary>
    public static async Task<bool> IsLastActiveAdminAsync(AuthDbContext db, Guid userId, CancellationToken cancellationToken)
    {
        RequireTransaction(db);
        var admins = await db.Database
            .SqlQuery<Guid>($"SELECT id AS \"Value\" FROM users WHERE 'admin' = ANY (roles) AND disabled_at IS NULL LIMIT 2")
            .ToListAsync(cancellationToken);
        return admins.Count == 1 && admins[0] == userId;
    }

    private static void RequireTransaction(AuthDbContext db)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("The last-admin rule must be checked in the transaction of the change.");
        }
    }
}
