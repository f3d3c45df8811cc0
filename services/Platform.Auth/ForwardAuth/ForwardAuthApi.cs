using System.Security.Claims;
using Platform.Api.OpenApi;
using Platform.Authentication;

namespace Platform.Auth.ForwardAuth;

/// <summary>
/// <c>GET /api/auth/verify</c>: forward authentication for an ingress (nginx <c>auth_request</c>, ingress-nginx
/// <c>auth-url</c>), so any app behind it is protected by platform sessions. The bearer token is checked exactly as
/// everywhere — signature, lifetime, revoked sessions, from the validated-token cache — and nothing touches the
/// database, so each protected request costs a cache lookup. 200 with the caller in <c>X-User-Id</c>,
/// <c>X-User-Email</c> and <c>X-Session-Id</c> and no body; otherwise the bearer scheme's 401 with <c>WWW-Authenticate</c>.
/// </summary>
public static class ForwardAuthApi
{
    public const string UserIdHeader = "X-User-Id";
    public const string UserEmailHeader = "X-User-Email";
    public const string SessionIdHeader = "X-Session-Id";

    public static RouteGroupBuilder MapForwardAuthApi(this RouteGroupBuilder auth)
    {
        auth.MapGet("/verify", (ClaimsPrincipal principal, HttpContext http) =>
        {
            var headers = http.Response.Headers;
            headers[UserIdHeader] = principal.UserId().ToString();
            headers[UserEmailHeader] = principal.Email();
            headers[SessionIdHeader] = principal.SessionId().ToString();
            headers.CacheControl = "no-store"; // an answer about one token must not be reused for another request
            return TypedResults.Ok();
        }).RequireAuthorization().WithName("Verify").WithSummary("Forward authentication for an ingress")
            .WithDescription("200 with an empty body and the caller in the X-User-* headers when the bearer token is valid; the 401 otherwise.")
            .WithResponseHeader(StatusCodes.Status200OK, UserIdHeader, "The user's id.")
            .WithResponseHeader(StatusCodes.Status200OK, UserEmailHeader, "The user's e-mail address (UTF-8).")
            .WithResponseHeader(StatusCodes.Status200OK, SessionIdHeader, "The session's id.")
            .WithResponseHeader(StatusCodes.Status200OK, "Cache-Control", "no-store");
        return auth;
    }
}
