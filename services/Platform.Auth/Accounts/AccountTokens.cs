using Microsoft.EntityFrameworkCore;
using Platform.Auth.Data;
using Platform.Auth.Tokens;

namespace Platform.Auth.Accounts;

/// <summary>Issuing and redeeming the single-use tokens that account mails carry (<see cref="AccountToken"/>).</summary>
public static class AccountTokens
{
    /// <summary>Adds a new token of <paramref name="purpose"/> to the context (the caller saves); returns the token itself, for the mail.</summary>
    public static string Issue(AuthDbContext db, Guid userId, string purpose, TimeSpan lifetime, DateTimeOffset now)
    {
        var (token, hash) = OpaqueTokens.Create();
        db.AccountTokens.Add(new AccountToken { Hash = hash, UserId = userId, Purpose = purpose, CreatedAt = now, ExpiresAt = now + lifetime });
        return token;
    }

    /// <summary>
    /// The user whose token could be redeemed now, or null: a cheap look before expensive work, and the user whose row
    /// to lock first (<see cref="UserRowLock"/>: users row before token rows, as a password change takes them) — not a decision.
    /// </summary>
    public static async Task<Guid?> RedeemableByAsync(AuthDbContext db, byte[] hash, string purpose, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.AccountTokens.Where(t => t.Hash == hash && t.Purpose == purpose && t.UsedAt == null && t.ExpiresAt > now)
            .Select(t => (Guid?)t.UserId).FirstOrDefaultAsync(cancellationToken);

    /// <summary>
    /// Spends the token and returns its user, or null when it is unknown, of another purpose, expired or already
    /// used. The conditional <c>UPDATE</c> is the single point of decision: of concurrent redemptions exactly one
    /// wins, and the caller's transaction makes the spending and its effect one.
    /// </summary>
    public static async Task<Guid?> RedeemAsync(AuthDbContext db, byte[] hash, string purpose, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var users = await db.Database.SqlQuery<Guid>($"""
            UPDATE account_tokens SET used_at = {now}
            WHERE hash = {hash} AND purpose = {purpose} AND used_at IS NULL AND expires_at > {now}
            RETURNING user_id AS "Value"
            """).ToListAsync(cancellationToken);
        return users.Count == 1 ? users[0] : null;
    }

    /// <summary>Spends every other open token of the user for that purpose: one reset makes the older links useless.</summary>
    public static Task<int> SpendAllAsync(AuthDbContext db, Guid userId, string purpose, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.AccountTokens.Where(t => t.UserId == userId && t.Purpose == purpose && t.UsedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.UsedAt, now), cancellationToken);
}
