using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Api.OpenApi;
using Platform.Api.Paging;
using Platform.Auth.Accounts;
using Platform.Auth.Data;
using Platform.Auth.Sessions;
using Platform.Authentication;
using Platform.Hosting.Problems;
using Platform.Messaging;

namespace Platform.Auth.Admin;

/// <summary>
/// Users as an admin manages them. Every change is audited (<see cref="AuditLog"/>) and evented in its own
/// transaction; ending sessions goes the way of logout and account deletion, so the other services refuse the
/// tokens within the revocation bound. The last active admin cannot be disabled, demoted or deleted (409).
/// </summary>
public static class AdminUsersApi
{
    private static readonly string[] ExampleRoles = ["user", "admin"];

    public static RouteGroupBuilder MapAdminUsersApi(this RouteGroupBuilder admin)
    {
        admin.MapGet("/users", ListAsync).WithName("AdminListUsers").WithSummary("List and search users")
            .WithDescription("q: part of the e-mail address or name (case-insensitive); role: only users with this role; cursor is the nextCursor of the previous page; limit 1–200 (default 50). Newest first.")
            .Produces<AdminUserPage>()
            .ProducesProblems(StatusCodes.Status400BadRequest, "A filter, the cursor or the limit is not valid.", ProblemTypes.Validation);
        admin.MapGet("/users/{id:guid}", GetAsync).WithName("AdminGetUser").WithSummary("One user with its live sessions")
            .Produces<AdminUserDetail>()
            .ProducesProblems(StatusCodes.Status404NotFound, "No such user.", ProblemTypes.NotFound);
        admin.MapPost("/users/{id:guid}/disable", DisableAsync).WithName("AdminDisableUser").WithSummary("Disable a user")
            .WithDescription("Ends every session of the user (its tokens are refused everywhere within a second) and refuses its logins until enabled.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(StatusCodes.Status404NotFound, "No such user.", ProblemTypes.NotFound)
            .ProducesProblems(StatusCodes.Status409Conflict, "The user is the last active admin.", AuthProblems.LastAdminType);
        admin.MapPost("/users/{id:guid}/enable", EnableAsync).WithName("AdminEnableUser").WithSummary("Enable a disabled user")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(StatusCodes.Status404NotFound, "No such user.", ProblemTypes.NotFound);
        admin.MapDelete("/users/{id:guid}/sessions", RevokeSessionsAsync).WithName("AdminRevokeUserSessions").WithSummary("End every session of a user")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(StatusCodes.Status404NotFound, "No such user.", ProblemTypes.NotFound);
        admin.MapPut("/users/{id:guid}/roles", SetRolesAsync).WithName("AdminSetUserRoles").WithSummary("Replace a user's roles")
            .WithDescription("\"user\" is always kept. Removing a role ends the user's sessions, so no token claims it any longer.")
            .WithRequestExample(new { roles = ExampleRoles })
            .Produces<AdminUserView>()
            .ProducesJsonBodyProblems()
            .ProducesProblems(StatusCodes.Status404NotFound, "No such user.", ProblemTypes.NotFound)
            .ProducesProblems(StatusCodes.Status409Conflict, "Removing admin would leave no active admin.", AuthProblems.LastAdminType);
        admin.MapDelete("/users/{id:guid}", DeleteAsync).WithName("AdminDeleteUser").WithSummary("Delete a user")
            .WithDescription("As the user's own deletion: every session ends and the other services purge the user's tasks and files (user.deleted). Needs the admin's session to be started by a login within the last 10 minutes, as the own deletion does.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(StatusCodes.Status401Unauthorized, "The admin's login is not recent enough.", AuthProblems.ReauthenticationRequiredType)
            .ProducesProblems(StatusCodes.Status404NotFound, "No such user.", ProblemTypes.NotFound)
            .ProducesProblems(StatusCodes.Status409Conflict, "The user is the last active admin.", AuthProblems.LastAdminType);
        return admin;
    }

    private static async Task<IResult> ListAsync(string? q, string? role, string? cursor, string? limit, AuthDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var page = PageQuery.Parse(cursor, limit, errors);
        if (q is { Length: > 254 } || q?.Any(char.IsControl) == true)
        {
            errors["q"] = ["The search text must be at most 254 characters without control characters."];
        }
        if (role is not null && !PlatformRoles.IsValidName(role))
        {
            errors["role"] = ["A role is 1–32 lower-case letters, digits, '-' or '_', starting with a letter."];
        }
        if (errors.Count > 0)
        {
            return AuthProblems.Validation(errors);
        }
        var users = page.After is { } after ? db.Users.FromSql($"SELECT * FROM users WHERE id < {after}") : db.Users;
        if (!string.IsNullOrWhiteSpace(q))
        {
            var pattern = "%" + Escape(q.Trim()) + "%";
            users = users.Where(u => EF.Functions.ILike(u.Email, pattern, "\\") || (u.Name != null && EF.Functions.ILike(u.Name, pattern, "\\")));
        }
        if (role is not null)
        {
            users = users.Where(u => u.Roles.Contains(role));
        }
        var fetched = await users.AsNoTracking().OrderByDescending(u => u.Id).Take(page.Limit + 1).ToListAsync(cancellationToken);
        var (items, next) = page.Cut(fetched, u => u.Id);
        return TypedResults.Ok(new AdminUserPage([.. items.Select(AdminUserView.Of)], next));
    }

    private static async Task<IResult> GetAsync(Guid id, AuthDbContext db, SessionManager sessions, CancellationToken cancellationToken)
    {
        if (await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, cancellationToken) is not { } user)
        {
            return NoSuchUser();
        }
        var live = await sessions.ListLiveAsync(id, cancellationToken);
        return TypedResults.Ok(new AdminUserDetail(AdminUserView.Of(user),
            [.. live.Select(s => new AdminSessionView(s.Id, s.CreatedAt, s.LastActivityAt, sessions.EndOf(s), s.IpAddress?.ToString(), s.Device))]));
    }

    private static Task<IResult> DisableAsync(Guid id, HttpContext http, AuthDbContext db, SessionManager sessions, RevocationPropagator revocations,
        TimeProvider clock, CancellationToken cancellationToken) =>
        ChangeAsync(id, db, revocations, async user =>
        {
            if (await LastAdminGuard.IsLastActiveAdminAsync(db, user.Id, cancellationToken))
            {
                return (AuthProblems.LastAdmin(), []);
            }
            var ended = new List<Guid>();
            if (user.DisabledAt is null)
            {
                user.DisabledAt = clock.GetUtcNow();
                db.AddEvent(AccountEvents.Disabled(user.Id, http.User.UserId()));
            }
            ended.AddRange(await sessions.EndAllInTransactionAsync(user.Id, "disabled", cancellationToken));
            AuditLog.Record(db, http, AuditActions.Disable, user.Id, new { sessionsEnded = ended.Count });
            return (TypedResults.NoContent(), ended);
        }, cancellationToken);

    private static Task<IResult> EnableAsync(Guid id, HttpContext http, AuthDbContext db, RevocationPropagator revocations, CancellationToken cancellationToken) =>
        ChangeAsync(id, db, revocations, user =>
        {
            if (user.DisabledAt is not null)
            {
                user.DisabledAt = null;
                db.AddEvent(AccountEvents.Enabled(user.Id, http.User.UserId()));
            }
            AuditLog.Record(db, http, AuditActions.Enable, user.Id);
            return Task.FromResult<(IResult, IReadOnlyList<Guid>)>((TypedResults.NoContent(), []));
        }, cancellationToken);

    private static Task<IResult> RevokeSessionsAsync(Guid id, HttpContext http, AuthDbContext db, SessionManager sessions, RevocationPropagator revocations,
        CancellationToken cancellationToken) =>
        ChangeAsync(id, db, revocations, async user =>
        {
            var ended = await sessions.EndAllInTransactionAsync(user.Id, "revoked-by-admin", cancellationToken);
            AuditLog.Record(db, http, AuditActions.RevokeSessions, user.Id, new { sessionsEnded = ended.Count });
            return (TypedResults.NoContent(), ended);
        }, cancellationToken);

    private static async Task<IResult> SetRolesAsync(Guid id, SetRolesRequest request, HttpContext http, AuthDbContext db, SessionManager sessions,
        RevocationPropagator revocations, CancellationToken cancellationToken)
    {
        if (request.Roles is not { Count: <= 16 } requested || requested.Any(r => !PlatformRoles.IsValidName(r)))
        {
            return AuthProblems.Validation(new Dictionary<string, string[]>
            {
                ["roles"] = ["At most 16 roles, each 1–32 lower-case letters, digits, '-' or '_', starting with a letter."],
            });
        }
        var roles = RoleSet.Of(requested);
        return await ChangeAsync(id, db, revocations, async user =>
        {
            var before = user.Roles.ToList();
            if (before.Contains(PlatformRoles.Admin) && !roles.Contains(PlatformRoles.Admin)
                && await LastAdminGuard.IsLastActiveAdminAsync(db, user.Id, cancellationToken))
            {
                return (AuthProblems.LastAdmin(), []);
            }
            IReadOnlyList<Guid> ended = [];
            if (!before.SequenceEqual(roles))
            {
                user.Roles = roles;
                db.AddEvent(AccountEvents.RoleChanged(user.Id, before, roles, http.User.UserId()));
                if (before.Except(roles).Any())
                {
                    ended = await sessions.EndAllInTransactionAsync(user.Id, "roles-changed", cancellationToken);
                }
            }
            AuditLog.Record(db, http, AuditActions.SetRoles, user.Id, new { previousRoles = before, roles });
            return (TypedResults.Ok(AdminUserView.Of(user)), ended);
        }, cancellationToken);
    }

    private static async Task<IResult> DeleteAsync(Guid id, HttpContext http, AuthDbContext db, SessionManager sessions, RevocationPropagator revocations,
        IOptions<AccountOptions> accounts, TimeProvider clock, CancellationToken cancellationToken) =>
        await RecentLogin.RequireAsync(http.User, http, db, accounts.Value.ReauthenticationWindow, clock, cancellationToken) ?? await ChangeAsync(id, db, revocations, async user =>
        {
            if (await LastAdminGuard.IsLastActiveAdminAsync(db, user.Id, cancellationToken))
            {
                return (AuthProblems.LastAdmin(), []);
            }
            var ended = await AccountDeletion.DeleteInTransactionAsync(db, sessions, user.Id, cancellationToken);
            AuditLog.Record(db, http, AuditActions.Delete, user.Id, new { email = user.Email });
            return (TypedResults.NoContent(), ended);
        }, cancellationToken);

    /// <summary>
    /// Loads the user for update in a transaction, applies <paramref name="change"/>, and commits unless it answered
    /// with a problem; then publishes the revocations of the sessions it ended.
    /// </summary>
    private static async Task<IResult> ChangeAsync(Guid id, AuthDbContext db, RevocationPropagator revocations,
        Func<User, Task<(IResult Result, IReadOnlyList<Guid> EndedSessions)>> change, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await LastAdminGuard.SerializeAdminChangesAsync(db, cancellationToken);
        if (await db.Users.FromSql($"SELECT * FROM users WHERE id = {id} FOR UPDATE").SingleOrDefaultAsync(cancellationToken) is not { } user)
        {
            return NoSuchUser();
        }
        var (result, ended) = await change(user);
        if (result is not IStatusCodeHttpResult { StatusCode: < 300 })
        {
            await transaction.RollbackAsync(cancellationToken);
            return result;
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await revocations.PublishAsync(ended, cancellationToken);
        return result;
    }

    private static ProblemHttpResult NoSuchUser() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "No such user.");

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
