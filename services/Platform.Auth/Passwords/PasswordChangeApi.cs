using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Platform.Api.OpenApi;
using Platform.Auth.Accounts;
using Platform.Auth.Data;
using Platform.Auth.Sessions;
using Platform.Authentication;
using Platform.Hosting.Problems;
using Platform.Messaging;

namespace Platform.Auth.Passwords;

/// <summary>
/// Changing the password knowing the current one. Every other session ends — whoever else holds the old password
/// is logged out — while the caller's session stays, so the page that changed it keeps working; reset links mailed
/// before are spent. A change that raced another change or a reset loses (409), rather than overwrite it.
/// </summary>
public static class PasswordChangeApi
{
    public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

    public static RouteGroupBuilder MapPasswordChangeApi(this RouteGroupBuilder auth)
    {
        auth.MapPost("/password", ChangeAsync).RequireAuthorization().WithName("ChangePassword").WithSummary("Change the caller's password")
            .WithDescription("The current password is required. Every other session of the user ends; the caller's stays. Wrong current passwords count against the account's login throttle.")
            .WithRequestExample(new { currentPassword = "correct-Horse-battery-9", newPassword = "another-Horse-battery-7" })
            .Produces(StatusCodes.Status204NoContent)
            .ProducesJsonBodyProblems()
            .ProducesProblems(StatusCodes.Status403Forbidden, "The current password is wrong.", AuthProblems.WrongPasswordType)
            .ProducesProblems(StatusCodes.Status404NotFound, "The account no longer exists.", ProblemTypes.NotFound)
            .ProducesProblems(StatusCodes.Status409Conflict, "Another request changed or reset the password meanwhile.", ProblemTypes.Conflict)
            .ProducesProblems(StatusCodes.Status429TooManyRequests, "Too many wrong passwords for this account.", AuthProblems.LoginThrottled)
            .WithResponseHeader(StatusCodes.Status429TooManyRequests, "Retry-After", "Seconds until the account may try again.")
            .ProducesProblems(StatusCodes.Status503ServiceUnavailable, "Too many password hashes at once.", AuthProblems.Overloaded);
        return auth;
    }

    private static async Task<IResult> ChangeAsync(ChangePasswordRequest request, ClaimsPrincipal principal, HttpContext http, AuthDbContext db,
        PasswordHasher hasher, LoginThrottle throttle, SessionManager sessions, RevocationPropagator revocations, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(request.CurrentPassword) || request.CurrentPassword.Length > CredentialRules.MaxPasswordLength)
        {
            errors["currentPassword"] = ["The current password is required."];
        }
        if (CredentialRules.PasswordProblem(request.NewPassword) is { } problem)
        {
            errors["newPassword"] = [problem];
        }
        if (errors.Count > 0)
        {
            return AuthProblems.Validation(errors);
        }
        var userId = principal.UserId();
        if (await db.Users.SingleOrDefaultAsync(u => u.Id == userId, cancellationToken) is not { } user)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "The account no longer exists.");
        }
        await using var attempt = await throttle.BeginAsync(user.EmailNormalized, SessionsApi.ClientAddress(http));
        if (!attempt.Allowed)
        {
            return AuthProblems.Throttled(http, attempt.RetryAfter, AuthProblems.LoginThrottled, "Too many wrong passwords for this account; try again later.");
        }
        var check = await hasher.VerifyAsync(request.CurrentPassword!, user.PasswordHash, cancellationToken);
        if (check == PasswordCheck.Invalid)
        {
            await attempt.FailedAsync();
            return AuthProblems.WrongPassword();
        }
        if (check is null || await hasher.HashAsync(request.NewPassword!, cancellationToken) is not { } hash)
        {
            return AuthProblems.Throttled(http, TimeSpan.FromSeconds(1), AuthProblems.Overloaded, "Too many password changes at once; try again in a moment.");
        }
        await attempt.SucceededAsync();
        var current = principal.SessionId();
        var checkedHash = user.PasswordHash;
        for (var recheck = true; ; recheck = false)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var locked = await UserRowLock.ForUpdateAsync(db, user.Id, cancellationToken);
            if (locked is null)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "The account no longer exists.");
            }
            if (!string.Equals(locked.PasswordHash, checkedHash, StringComparison.Ordinal))
            {
                await transaction.RollbackAsync(cancellationToken);
                // A login's rehash at a raised cost changes the hash, not the password: checked once more (outside the
                // lock), the current password still opens the row as it is now, and the change goes on over that hash.
                if (recheck && await hasher.VerifyAsync(request.CurrentPassword!, locked.PasswordHash, cancellationToken) is { } again && again != PasswordCheck.Invalid)
                {
                    checkedHash = locked.PasswordHash;
                    continue;
                }
                // Reset or changed by another request since the current password was checked: that one stands.
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict,
                    title: "The password was changed meanwhile.", detail: "Another request changed or reset the password while this one checked it; check the current password again.");
            }
            // A reset link mailed before the change must not undo it.
            await AccountTokens.SpendAllAsync(db, user.Id, AccountToken.PasswordReset, clock.GetUtcNow(), cancellationToken);
            user.PasswordHash = hash;
            db.AddEvent(AccountEvents.PasswordChanged(user.Id, current, "change"));
            var ended = await sessions.EndAllInTransactionAsync(user.Id, "password-changed", cancellationToken, keep: current);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            await revocations.PublishAsync(ended, cancellationToken);
            return TypedResults.NoContent();
        }
    }
}
