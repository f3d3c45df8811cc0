using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Api.OpenApi;
using Platform.Auth.Accounts;
using Platform.Auth.Data;
using Platform.Auth.Mail;
using Platform.Auth.Sessions;
using Platform.Auth.Tokens;
using Platform.Messaging;

namespace Platform.Auth.Passwords;

/// <summary>
/// Forgotten passwords: a mailed single-use link (<c>{PublicUrl}/reset-password?token=…</c>) whose token sets a new
/// password, ends every session of the account and proves the address (README, "Auth").
/// </summary>
public static class PasswordResetApi
{
    public const string MailKind = "password-reset";

    public sealed record ResetRequestBody(string? Email);

    public sealed record ResetPasswordBody(string? Token, string? NewPassword);

    /// <summary>The one answer to every well-formed reset request, whether or not an account uses the address.</summary>
    public sealed record ResetRequestAccepted(string Message);

    private static readonly ResetRequestAccepted Accepted = new("If an account uses this address, a mail with a link to reset its password is on its way.");

    public static RouteGroupBuilder MapPasswordResetApi(this RouteGroupBuilder auth)
    {
        auth.MapPost("/password/reset-request", RequestAsync).WithName("RequestPasswordReset").WithSummary("Mail a password-reset link")
            .WithDescription("Always 202 with the same body, after the same work, whether or not an account uses the address. The link works once, for 30 minutes by default. At most 3 mails per address per 15 minutes; the gateway limits each client too.")
            .WithRequestExample(new { email = "ada@example.org" })
            .Produces<ResetRequestAccepted>(StatusCodes.Status202Accepted)
            .ProducesJsonBodyProblems();
        auth.MapPost("/password/reset", ResetAsync).WithName("ResetPassword").WithSummary("Set a new password with a reset link's token")
            .WithDescription("Spends the token, sets the password, ends every session of the account (its tokens are refused everywhere within a second) and marks the address verified.")
            .WithRequestExample(new { token = "q8J4bW0p3Yx2…", newPassword = "another-Horse-battery-7" })
            .Produces(StatusCodes.Status204NoContent)
            .ProducesJsonBodyProblems()
            .ProducesProblems(StatusCodes.Status400BadRequest, "The token is unknown, expired or already used.", AuthProblems.InvalidResetTokenType)
            .ProducesProblems(StatusCodes.Status503ServiceUnavailable, "Too many password hashes at once.", AuthProblems.Overloaded);
        return auth;
    }

    /// <summary>
    /// The token is made, the mail rendered and the quota counted for every address; one statement then inserts the
    /// token and the mail only if an active account has the address. Known and unknown addresses cost the same
    /// round trips, and the answer is the same.
    /// </summary>
    private static async Task<IResult> RequestAsync(ResetRequestBody request, AuthDbContext db, AccountMails mails, MailQuota quota, MailWakeup wakeup,
        IOptions<AccountOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (CredentialRules.EmailProblem(request.Email) is { } problem)
        {
            return AuthProblems.Validation(new Dictionary<string, string[]> { ["email"] = [problem] });
        }
        var normalized = CredentialRules.Normalize(request.Email!);
        var lifetime = options.Value.PasswordResetTokenLifetime;
        var (token, hash) = OpaqueTokens.Create();
        var mail = mails.PasswordReset("", token, lifetime);
        if (await quota.TryTakeAsync(MailKind, normalized))
        {
            var now = clock.GetUtcNow();
            var expires = now + lifetime;
            var queued = await db.Database.ExecuteSqlAsync($"""
                WITH target AS (
                    SELECT id, email FROM users WHERE email_normalized = {normalized} AND disabled_at IS NULL
                ), token AS (
                    INSERT INTO account_tokens (hash, user_id, purpose, created_at, expires_at)
                    SELECT {hash}, id, {AccountToken.PasswordReset}, {now}, {expires} FROM target
                )
                INSERT INTO mail_outbox (id, message_id, recipient, subject, text_body, html_body, created_at, attempts, next_attempt_at)
                SELECT {mail.Id}, {mail.MessageId}, email, {mail.Subject}, {mail.TextBody}, {mail.HtmlBody}, {now}, 0, {now} FROM target
                """, cancellationToken);
            if (queued > 0)
            {
                wakeup.Notify();
            }
        }
        return TypedResults.Accepted((string?)null, Accepted);
    }

    private static async Task<IResult> ResetAsync(ResetPasswordBody request, AuthDbContext db, PasswordHasher hasher, LoginThrottle throttle,
        SessionManager sessions, RevocationPropagator revocations, TimeProvider clock, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(request.Token))
        {
            errors["token"] = ["The token from the reset link is required."];
        }
        if (CredentialRules.PasswordProblem(request.NewPassword) is { } problem)
        {
            errors["newPassword"] = [problem];
        }
        if (errors.Count > 0)
        {
            return AuthProblems.Validation(errors);
        }
        var now = clock.GetUtcNow();
        // A dead token costs no bcrypt work: the look is cheap, and the redemption below still decides.
        if (OpaqueTokens.HashOf(request.Token) is not { } tokenHash
            || await AccountTokens.RedeemableByAsync(db, tokenHash, AccountToken.PasswordReset, now, cancellationToken) is not { } tokenUser)
        {
            return AuthProblems.InvalidResetToken();
        }
        if (await hasher.HashAsync(request.NewPassword!, cancellationToken) is not { } passwordHash)
        {
            return AuthProblems.Throttled(http, TimeSpan.FromSeconds(1), AuthProblems.Overloaded, "Too many password changes at once; try again in a moment.");
        }
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The user's row before the token rows, in the order a password change takes them: never a deadlock between the two.
        if (await UserRowLock.ForUpdateAsync(db, tokenUser, cancellationToken) is null
            || await AccountTokens.RedeemAsync(db, tokenHash, AccountToken.PasswordReset, now, cancellationToken) != tokenUser
            || await db.Users.SingleOrDefaultAsync(u => u.Id == tokenUser, cancellationToken) is not { } user)
        {
            return AuthProblems.InvalidResetToken(); // spent by a concurrent request since the look above, or the account is gone
        }
        await AccountTokens.SpendAllAsync(db, user.Id, AccountToken.PasswordReset, now, cancellationToken);
        user.PasswordHash = passwordHash;
        db.AddEvent(AccountEvents.PasswordChanged(user.Id, null, "reset"));
        if (!user.EmailVerified)
        {
            user.EmailVerified = true;
            db.AddEvent(AccountEvents.EmailVerified(user.Id));
        }
        var ended = await sessions.EndAllInTransactionAsync(user.Id, "password-reset", cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await revocations.PublishAsync(ended, cancellationToken);
        await throttle.ClearAsync(user.EmailNormalized, SessionsApi.ClientAddress(http));
        return TypedResults.NoContent();
    }
}
