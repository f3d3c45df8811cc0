using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Platform.Auth.Data;
using Platform.Authentication;

namespace Platform.Auth.Accounts;

/// <summary>
/// Irreversible actions (deleting an account) need a session that a password started within
/// <see cref="AccountOptions.ReauthenticationWindow"/>. Refreshing keeps a session going but never makes it recent, so
/// a stolen access or refresh token cannot delete anything; the owner logs in again and retries (RFC 9470's step-up).
/// </summary>
public static class RecentLogin
{
    /// <summary>Null when the caller's session began recently enough; otherwise the 401 to answer.</summary>
    public static async Task<IResult?> RequireAsync(ClaimsPrincipal principal, HttpContext http, AuthDbContext db, TimeSpan window, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var sessionId = principal.SessionId();
        var userId = principal.UserId();
        var started = await db.Sessions.AsNoTracking().Where(s => s.Id == sessionId && s.UserId == userId)
            .Select(s => (DateTimeOffset?)s.CreatedAt).SingleOrDefaultAsync(cancellationToken);
        return started is { } at && at >= clock.GetUtcNow() - window ? null : AuthProblems.ReauthenticationRequired(http, window);
    }
}
