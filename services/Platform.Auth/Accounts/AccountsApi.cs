using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Api.OpenApi;
using Microsoft.Extensions.Options;
using Platform.Auth.Admin;
using Platform.Auth.Data;
using Platform.Auth.Mail;
using Platform.Auth.Passwords;
using Platform.Auth.Sessions;
using Platform.Authentication;
using Platform.Contracts.Events;
using Platform.Hosting.Problems;
using Platform.Messaging;

namespace Platform.Auth.Accounts;

public static class AccountsApi
{
    public sealed record RegisterRequest(string? Email, string? Password, string? Name);

    public sealed record UserView(Guid Id, string Email, string? Name, DateTimeOffset CreatedAt, bool EmailVerified)
    {
        public static UserView Of(User user) => new(user.Id, user.Email, user.Name, user.CreatedAt, user.EmailVerified);
    }

    public static RouteGroupBuilder MapAccountsApi(this RouteGroupBuilder auth)
    {
        auth.MapPost("/register", RegisterAsync).WithName("Register").WithSummary("Create an account")
            .WithDescription("E-mail addresses are unique whatever their letter case; passwords are 10–128 characters from at least two classes (lower, upper, digits, other). A verification link is mailed to the address.")
            .WithRequestExample(new { email = "ada@example.org", password = "correct-Horse-battery-9", name = "Ada" })
            .Produces<UserView>(StatusCodes.Status201Created)
            .WithResponseHeader(StatusCodes.Status201Created, "Location", "/api/auth/me")
            .ProducesJsonBodyProblems()
            .ProducesProblems(StatusCodes.Status409Conflict, "An account with this e-mail address exists.", AuthProblems.EmailTaken)
            .ProducesProblems(StatusCodes.Status503ServiceUnavailable, "Too many sign-ups at once.", AuthProblems.Overloaded);
        auth.MapGet("/me", MeAsync).RequireAuthorization().WithName("GetMe").WithSummary("The caller's account")
            .Produces<UserView>()
            .ProducesProblems(StatusCodes.Status404NotFound, "The account no longer exists.", ProblemTypes.NotFound);
        auth.MapDelete("/account", DeleteAsync).RequireAuthorization().WithName("DeleteAccount").WithSummary("Delete the caller's account")
            .WithDescription("Ends every session; the other services purge the user's tasks and files. Needs a session started by a login within the last 10 minutes (`Accounts:ReauthenticationWindow`): otherwise 401 `reauthentication-required` with RFC 9470's `WWW-Authenticate: Bearer error=\"insufficient_user_authentication\", max_age=…`; log in again and retry.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(StatusCodes.Status401Unauthorized, "The session's login is not recent enough.", AuthProblems.ReauthenticationRequiredType)
            .ProducesProblems(StatusCodes.Status404NotFound, "The account no longer exists.", ProblemTypes.NotFound)
            .ProducesProblems(StatusCodes.Status409Conflict, "The caller is the last active admin.", AuthProblems.LastAdminType);
        return auth;
    }

    private static async Task<IResult> RegisterAsync(RegisterRequest request, HttpContext http, AuthDbContext db, PasswordHasher hasher, AccountMails mails,
        MailWakeup wakeup, IOptions<AccountOptions> accounts, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        Add(errors, "email", CredentialRules.EmailProblem(request.Email));
        Add(errors, "password", CredentialRules.PasswordProblem(request.Password));
        Add(errors, "name", CredentialRules.NameProblem(request.Name));
        if (errors.Count > 0)
        {
            return AuthProblems.Validation(errors);
        }
        var email = request.Email!.Trim();
        var normalized = CredentialRules.Normalize(email);
        if (await db.Users.AnyAsync(u => u.EmailNormalized == normalized, cancellationToken))
        {
            return EmailTaken();
        }
        if (await hasher.HashAsync(request.Password!, cancellationToken) is not { } hash)
        {
            return AuthProblems.Throttled(http, TimeSpan.FromSeconds(1), AuthProblems.Overloaded, "Too many sign-ups at once; try again in a moment.");
        }
        var user = new User { Id = Guid.CreateVersion7(), Email = email, EmailNormalized = normalized, Name = request.Name?.Trim(), PasswordHash = hash, CreatedAt = clock.GetUtcNow() };
        db.Users.Add(user);
        db.AddEvent(AccountEvents.Create(EventTypes.UserRegistered, new { userId = user.Id, email = user.Email }));
        EmailVerificationApi.QueueMail(db, mails, user, accounts.Value.EmailVerificationTokenLifetime, user.CreatedAt);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return EmailTaken(); // a concurrent registration of the same address won the race
        }
        wakeup.Notify();
        return TypedResults.Created("/api/auth/me", UserView.Of(user));
    }

    private static async Task<IResult> MeAsync(ClaimsPrincipal principal, AuthDbContext db, CancellationToken cancellationToken) =>
        await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == principal.UserId(), cancellationToken) is { } user
            ? TypedResults.Ok(UserView.Of(user))
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "The account no longer exists.");

    /// <summary>
    /// Deletes the account and, in the same transaction, the <c>user.deleted</c> event that tells the other services
    /// to purge the user's data; then ends all its sessions everywhere. The last active admin cannot leave (409).
    /// </summary>
    private static async Task<IResult> DeleteAsync(ClaimsPrincipal principal, HttpContext http, AuthDbContext db, SessionManager sessions, RevocationPropagator revocations,
        IOptions<AccountOptions> accounts, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await RecentLogin.RequireAsync(principal, http, db, accounts.Value.ReauthenticationWindow, clock, cancellationToken) is { } stale)
        {
            return stale;
        }
        var userId = principal.UserId();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await LastAdminGuard.SerializeAdminChangesAsync(db, cancellationToken);
        if (!await db.Users.AnyAsync(u => u.Id == userId, cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "The account no longer exists.");
        }
        if (await LastAdminGuard.IsLastActiveAdminAsync(db, userId, cancellationToken))
        {
            return AuthProblems.LastAdmin();
        }
        var ended = await AccountDeletion.DeleteInTransactionAsync(db, sessions, userId, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await revocations.PublishAsync(ended, cancellationToken);
        return TypedResults.NoContent();
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult EmailTaken() =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: AuthProblems.EmailTaken, title: "An account with this e-mail address exists.");

    private static void Add(Dictionary<string, string[]> errors, string field, string? problem)
    {
        if (problem is not null)
        {
            errors[field] = [problem];
        }
    }
}
