using System.Net;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Api.OpenApi;
using Platform.Auth.Accounts;
using Platform.Auth.Data;
using Platform.Auth.Passwords;
using Platform.Auth.Tokens;
using Platform.Authentication;
using Platform.Hosting.Problems;

namespace Platform.Auth.Sessions;

public static class SessionsApi
{
    public sealed record LoginRequest(string? Email, string? Password);

    public sealed record RefreshRequest(string? RefreshToken);

    /// <summary>
    /// <c>expiresAt</c>: when the session ends unless it is used again (the idle timeout from its last activity, or
    /// its absolute end if sooner); <c>absoluteExpiresAt</c>: when it ends however much it is used.
    /// </summary>
    public sealed record SessionView(Guid Id, DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt, DateTimeOffset ExpiresAt,
        DateTimeOffset AbsoluteExpiresAt, string? IpAddress, string Device, bool Current);

    /// <summary>The caller's live sessions, most recently active first; one page (<c>nextCursor</c> is always null).</summary>
    public sealed record SessionPage(IEnumerable<SessionView> Items, string? NextCursor);

    public static RouteGroupBuilder MapSessionsApi(this RouteGroupBuilder auth)
    {
        auth.MapPost("/login", LoginAsync).WithName("Login").WithSummary("Log in: start a session")
            .WithDescription("An unknown address and a wrong password get the same answer. After 5 failed logins the account is blocked for 1 s, 2 s, 4 s … (at most 15 min).")
            .WithRequestExample(new { email = "ada@example.org", password = "correct-Horse-battery-9" })
            .Produces<TokenResponse>()
            .ProducesJsonBodyProblems()
            .ProducesProblems(StatusCodes.Status401Unauthorized, "The e-mail address or password is wrong.", AuthProblems.InvalidCredentials)
            .ProducesProblems(StatusCodes.Status403Forbidden, "The password is right but an admin disabled the account, or the deployment requires a verified address and this one is not.",
                AuthProblems.AccountDisabledType, AuthProblems.EmailNotVerifiedType)
            .ProducesProblems(StatusCodes.Status429TooManyRequests, "Too many failed logins for this account.", AuthProblems.LoginThrottled)
            .WithResponseHeader(StatusCodes.Status429TooManyRequests, "Retry-After", "Seconds until the account may try again.")
            .ProducesProblems(StatusCodes.Status503ServiceUnavailable, "Too many logins at once, or no signing key is active.", AuthProblems.Overloaded, AuthProblems.SigningKeyUnavailable);
        auth.MapPost("/refresh", RefreshAsync).WithName("Refresh").WithSummary("Exchange a refresh token for a new pair")
            .WithDescription("The presented token is spent; presenting it again revokes its session. Counts as activity.")
            .WithRequestExample(new { refreshToken = "q8J4bW0p3Yx2…" })
            .Produces<TokenResponse>()
            .ProducesJsonBodyProblems()
            .ProducesProblems(StatusCodes.Status401Unauthorized, "The session has expired (log in again) or the refresh token is not valid.",
                ProblemTypes.SessionExpired, AuthProblems.InvalidRefreshToken)
            .ProducesProblems(StatusCodes.Status503ServiceUnavailable, "No signing key is active.", AuthProblems.SigningKeyUnavailable);
        auth.MapPost("/logout", LogoutAsync).RequireAuthorization().WithName("Logout").WithSummary("End the caller's session")
            .WithDescription("Its access tokens are refused everywhere within a second.")
            .Produces(StatusCodes.Status204NoContent);
        auth.MapGet("/sessions", ListAsync).RequireAuthorization().WithName("ListSessions").WithSummary("The caller's live sessions")
            .Produces<SessionPage>();
        auth.MapPost("/sessions/current/activity", RecordActivityAsync).RequireAuthorization().WithName("RecordActivity")
            .WithSummary("Mark the caller's session active without issuing tokens")
            .Produces(StatusCodes.Status204NoContent);
        auth.MapDelete("/sessions/{id:guid}", RevokeAsync).RequireAuthorization().WithName("RevokeSession").WithSummary("Revoke one of the caller's sessions")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(StatusCodes.Status404NotFound, "Not one of the caller's live sessions.", ProblemTypes.NotFound);
        auth.MapDelete("/sessions", RevokeOthersAsync).RequireAuthorization().WithName("RevokeOtherSessions")
            .WithSummary("Revoke every session of the caller but the current one")
            .Produces(StatusCodes.Status204NoContent);
        return auth;
    }

    /// <summary>
    /// Unknown address and wrong password give the same answer after the same bcrypt work, and both count
    /// against the address's throttle, so neither the answer nor its timing tells whether an account exists.
    /// </summary>
    private static async Task<IResult> LoginAsync(LoginRequest request, HttpContext http, AuthDbContext db, PasswordHasher hasher,
        LoginThrottle throttle, SessionManager sessions, AccessTokenIssuer issuer, AuthMetrics metrics, IOptions<AccountOptions> accounts, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Email) || string.IsNullOrEmpty(request.Password) || request.Password.Length > CredentialRules.MaxPasswordLength
            || request.Email.Length > CredentialRules.MaxEmailLength)
        {
            return AuthProblems.Validation(new Dictionary<string, string[]> { ["credentials"] = ["An e-mail address and a password (at most 128 characters) are required."] });
        }
        var email = CredentialRules.Normalize(request.Email);
        var client = ClientAddress(http);
        await using var attempt = await throttle.BeginAsync(email, client);
        if (!attempt.Allowed)
        {
            metrics.Login("throttled");
            return AuthProblems.Throttled(http, attempt.RetryAfter, AuthProblems.LoginThrottled, "Too many failed logins for this account; try again later.");
        }
        // No account's address has a control character (registration refuses them), and PostgreSQL's text cannot
        // even be compared with U+0000: such an address is unknown without asking, and still costs the hash below.
        var user = email.Any(char.IsControl) ? null : await db.Users.SingleOrDefaultAsync(u => u.EmailNormalized == email, cancellationToken);
        var check = await hasher.VerifyAsync(request.Password, user?.PasswordHash, cancellationToken);
        if (check is null)
        {
            metrics.Login("overloaded");
            return AuthProblems.Throttled(http, TimeSpan.FromSeconds(1), AuthProblems.Overloaded, "Too many logins at once; try again in a moment.");
        }
        if (check == PasswordCheck.Invalid || user is null)
        {
            await attempt.FailedAsync();
            metrics.Login("failure");
            return AuthProblems.InvalidLogin();
        }
        await attempt.SucceededAsync();
        if (user.DisabledAt is not null)
        {
            metrics.Login("disabled");
            return AuthProblems.AccountDisabled();
        }
        if (accounts.Value.RequireVerifiedEmail && !user.EmailVerified)
        {
            metrics.Login("unverified");
            return AuthProblems.EmailNotVerified();
        }
        if (!issuer.CanIssue)
        {
            return AuthProblems.NoSigningKey();
        }
        var checkedHash = user.PasswordHash;
        var device = DeviceDescription.FromUserAgent(http.Request.Headers.UserAgent);
        var started = await sessions.StartAsync(user, checkedHash, client, device, cancellationToken);
        if (started is null && user.DisabledAt is null
            && await db.Users.AsNoTracking().Where(u => u.Id == user.Id).Select(u => u.PasswordHash).SingleOrDefaultAsync(cancellationToken) is { } now
            && now != checkedHash && await hasher.VerifyAsync(request.Password, now, cancellationToken) is { } recheck && recheck != PasswordCheck.Invalid)
        {
            // Another login of this password rehashed it at a raised cost after this one read the row: the hash changed,
            // the password did not. A reset or change to another password fails this second check and is answered below.
            (checkedHash, check) = (now, recheck);
            started = await sessions.StartAsync(user, checkedHash, client, device, cancellationToken);
        }
        if (started is not { } begun)
        {
            // The password was reset or changed, or the account disabled or deleted, while this login checked the old
            // row: a disable is said as such (StartAsync reloaded the row), the rest answered as a wrong password; the
            // next attempt sees the account as it is now.
            metrics.Login("changed");
            return user.DisabledAt is not null ? AuthProblems.AccountDisabled() : AuthProblems.InvalidLogin();
        }
        if (check == PasswordCheck.ValidButWeakerThanConfigured && await hasher.HashAsync(request.Password, cancellationToken) is { } stronger)
        {
            // Only over the hash this login checked: never over a password set meanwhile.
            await db.Users.Where(u => u.Id == user.Id && u.PasswordHash == checkedHash)
                .ExecuteUpdateAsync(set => set.SetProperty(u => u.PasswordHash, stronger), cancellationToken);
        }
        metrics.Login("success");
        return Tokens(issuer, user, begun.Session, begun.RefreshToken);
    }

    private static async Task<IResult> RefreshAsync(RefreshRequest request, SessionManager sessions, AccessTokenIssuer issuer, CancellationToken cancellationToken) =>
        await sessions.RefreshAsync(request.RefreshToken, cancellationToken) switch
        {
            RefreshOutcome.Refreshed refreshed => Tokens(issuer, refreshed.User, refreshed.Session, refreshed.RefreshToken),
            RefreshOutcome.Expired expired => AuthProblems.SessionExpired(expired.Expiry),
            _ => AuthProblems.RefreshRejected(),
        };

    private static async Task<IResult> LogoutAsync(ClaimsPrincipal principal, SessionManager sessions, CancellationToken cancellationToken)
    {
        await sessions.LogoutAsync(principal.UserId(), principal.SessionId(), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ListAsync(ClaimsPrincipal principal, SessionManager sessions, CancellationToken cancellationToken)
    {
        var current = principal.SessionId();
        var live = await sessions.ListLiveAsync(principal.UserId(), cancellationToken);
        var items = live.Select(s => new SessionView(s.Id, s.CreatedAt, s.LastActivityAt, sessions.EndOf(s), s.ExpiresAt,
            s.IpAddress?.ToString(), s.Device ?? DeviceDescription.Unknown, s.Id == current));
        return TypedResults.Ok(new SessionPage(items, null));
    }

    /// <summary>204 whether or not this call had to be written: a recent write already carries it.</summary>
    private static async Task<IResult> RecordActivityAsync(ClaimsPrincipal principal, SessionManager sessions, CancellationToken cancellationToken)
    {
        await sessions.RecordActivityAsync(principal.UserId(), principal.SessionId(), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> RevokeAsync(Guid id, ClaimsPrincipal principal, SessionManager sessions, CancellationToken cancellationToken) =>
        await sessions.RevokeAsync(principal.UserId(), id, "revoked-by-user", cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "No such live session.");

    private static async Task<IResult> RevokeOthersAsync(ClaimsPrincipal principal, SessionManager sessions, CancellationToken cancellationToken)
    {
        await sessions.RevokeAllExceptAsync(principal.UserId(), principal.SessionId(), "revoked-by-user", cancellationToken);
        return TypedResults.NoContent();
    }

    private static IResult Tokens(AccessTokenIssuer issuer, User user, Session session, string refreshToken)
    {
        if (issuer.Issue(user.Id, session.Id, user.Email, user.EmailVerified, user.Roles, session.ExpiresAt) is not { } access)
        {
            return AuthProblems.NoSigningKey();
        }
        return TypedResults.Ok(new TokenResponse(access.Token, refreshToken, "Bearer", (int)access.Lifetime.TotalSeconds));
    }

    /// <summary>The client's address as the forwarded-headers middleware resolved it, IPv4 in its plain form.</summary>
    public static IPAddress? ClientAddress(HttpContext http) =>
        http.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : http.Connection.RemoteIpAddress;
}
