using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Api.OpenApi;
using Platform.Auth.Data;
using Platform.Auth.Mail;
using Platform.Auth.Tokens;
using Platform.Authentication;
using Platform.Hosting.Problems;
using Platform.Messaging;

namespace Platform.Auth.Accounts;

/// <summary>
/// Proving an address: registration mails a single-use link (<c>{PublicUrl}/verify-email?token=…</c>), the user asks
/// for another with <c>verify-request</c>, and the link's token sets <c>email_verified</c> (README, "Auth").
/// </summary>
public static class EmailVerificationApi
{
    public const string MailKind = "email-verification";

    public sealed record VerifyEmailBody(string? Token);

    public static RouteGroupBuilder MapEmailVerificationApi(this RouteGroupBuilder auth)
    {
        auth.MapPost("/email/verify-request", RequestAsync).RequireAuthorization().WithName("RequestEmailVerification")
            .WithSummary("Mail a new verification link to the caller's address")
            .WithDescription("The link works once, for 24 hours by default. At most 3 mails per address per 15 minutes.")
            .Produces(StatusCodes.Status202Accepted)
            .ProducesProblems(StatusCodes.Status404NotFound, "The account no longer exists.", ProblemTypes.NotFound)
            .ProducesProblems(StatusCodes.Status409Conflict, "The address is verified already.", AuthProblems.EmailAlreadyVerifiedType)
            .ProducesProblems(StatusCodes.Status429TooManyRequests, "Too many verification mails to this address.", AuthProblems.MailThrottledType)
            .WithResponseHeader(StatusCodes.Status429TooManyRequests, "Retry-After", "Seconds until another mail may be asked for.");
        auth.MapPost("/email/verify", VerifyAsync).WithName("VerifyEmail").WithSummary("Verify the address with a verification link's token")
            .WithDescription("Spends the token and marks the account's address verified; access tokens issued from then on (log in or refresh) carry email_verified: true.")
            .WithRequestExample(new { token = "q8J4bW0p3Yx2…" })
            .Produces(StatusCodes.Status204NoContent)
            .ProducesJsonBodyProblems()
            .ProducesProblems(StatusCodes.Status400BadRequest, "The token is unknown, expired or already used.", AuthProblems.InvalidVerificationTokenType);
        return auth;
    }

    /// <summary>Adds a verification token and its mail to the context, for the caller's transaction (registration, <c>verify-request</c>).</summary>
    public static void QueueMail(AuthDbContext db, AccountMails mails, User user, TimeSpan lifetime, DateTimeOffset now)
    {
        var token = AccountTokens.Issue(db, user.Id, AccountToken.EmailVerification, lifetime, now);
        db.MailOutbox.Add(mails.EmailVerification(user.Email, token, lifetime));
    }

    private static async Task<IResult> RequestAsync(ClaimsPrincipal principal, HttpContext http, AuthDbContext db, AccountMails mails, MailQuota quota,
        MailWakeup wakeup, IOptions<AccountOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        if (await db.Users.SingleOrDefaultAsync(u => u.Id == userId, cancellationToken) is not { } user)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "The account no longer exists.");
        }
        if (user.EmailVerified)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: AuthProblems.EmailAlreadyVerifiedType, title: "The e-mail address is verified already.");
        }
        if (!await quota.TryTakeAsync(MailKind, user.EmailNormalized))
        {
            return AuthProblems.Throttled(http, options.Value.MailQuotaWindow, AuthProblems.MailThrottledType, "Too many verification mails to this address; try again later.");
        }
        QueueMail(db, mails, user, options.Value.EmailVerificationTokenLifetime, clock.GetUtcNow());
        await db.SaveChangesAsync(cancellationToken);
        wakeup.Notify();
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<IResult> VerifyAsync(VerifyEmailBody request, AuthDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Token))
        {
            return AuthProblems.Validation(new Dictionary<string, string[]> { ["token"] = ["The token from the verification link is required."] });
        }
        if (OpaqueTokens.HashOf(request.Token) is not { } tokenHash)
        {
            return AuthProblems.InvalidVerificationToken();
        }
        var now = clock.GetUtcNow();
        if (await AccountTokens.RedeemableByAsync(db, tokenHash, AccountToken.EmailVerification, now, cancellationToken) is not { } tokenUser)
        {
            return AuthProblems.InvalidVerificationToken();
        }
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The user's row before the token's, as a deletion takes them (its cascade removes the token): spending the token
        // first deadlocked with a deletion of the same account.
        if (await UserRowLock.ForUpdateAsync(db, tokenUser, cancellationToken) is null
            || await AccountTokens.RedeemAsync(db, tokenHash, AccountToken.EmailVerification, now, cancellationToken) != tokenUser
            || await db.Users.SingleOrDefaultAsync(u => u.Id == tokenUser, cancellationToken) is not { } user)
        {
            return AuthProblems.InvalidVerificationToken();
        }
        if (!user.EmailVerified)
        {
            user.EmailVerified = true;
            db.AddEvent(AccountEvents.EmailVerified(user.Id));
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
