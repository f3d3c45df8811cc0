using Microsoft.EntityFrameworkCore;
using Platform.Auth.Data;

namespace Platform.Auth.Accounts;

/// <summary>
/// The user's row as the one place where a login and whatever ends the user's sessions meet. A login checks the
/// password against the row it read before bcrypt ran, perhaps hundreds of milliseconds earlier; a password reset or
/// change, disabling the account or deleting it may commit meanwhile and end every session there is — and the login
/// would then add one. So a login starts its session holding the row <c>FOR SHARE</c>, and only while the row still has
/// the hash it checked and no <c>disabled_at</c>; and ending a user's sessions (<c>SessionManager.EndAllInTransactionAsync</c>)
/// first takes the row <c>FOR UPDATE</c>. Either the login commits first, and the ending (a statement after the lock,
/// so under READ COMMITTED it sees the new session) ends its session too; or the ending commits first, and the login
/// finds the row changed or gone. Both need the caller's transaction: outside one the lock ends with the statement.
/// </summary>
public static class UserRowLock
{
    /// <summary>What a login rechecks (SqlQuery binds the columns to these properties by name).</summary>
    public sealed class State
    {
        public string PasswordHash { get; set; } = "";

        public DateTimeOffset? DisabledAt { get; set; }
    }

    /// <summary>Locks the row against any change until the transaction ends; null when the user is gone.</summary>
    public static Task<State?> ForUpdateAsync(AuthDbContext db, Guid userId, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<State>($"SELECT password_hash AS \"PasswordHash\", disabled_at AS \"DisabledAt\" FROM users WHERE id = {userId} FOR UPDATE")
            .SingleOrDefaultAsync(cancellationToken);

    /// <summary>Locks the row against change, not against other logins, until the transaction ends; null when the user is gone.</summary>
    public static Task<State?> ForShareAsync(AuthDbContext db, Guid userId, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<State>($"SELECT password_hash AS \"PasswordHash\", disabled_at AS \"DisabledAt\" FROM users WHERE id = {userId} FOR SHARE")
            .SingleOrDefaultAsync(cancellationToken);
}
