using Microsoft.Extensions.Options;
using Platform.Api.OpenApi;

namespace Platform.Auth.Sessions;

/// <summary>
/// <c>GET /api/auth/config</c>, anonymous: the lifetimes a client needs to schedule its refreshes and activity marks
/// — refresh before the access token expires, mark activity (or refresh) before the idle timeout, and expect to log
/// in again at the absolute end. All in seconds.
/// </summary>
public static class ClientConfigApi
{
    public sealed record ClientConfig(int AccessTokenLifetimeSeconds, int IdleTimeoutSeconds, int AbsoluteLifetimeSeconds, int ActivityWriteIntervalSeconds);

    public static RouteGroupBuilder MapClientConfigApi(this RouteGroupBuilder auth)
    {
        auth.MapGet("/config", (IOptions<TokenOptions> tokens, IOptions<SessionOptions> sessions, HttpContext http) =>
        {
            // Settings change only with a deployment; a minute of caching spares clients a round trip per page load.
            http.Response.Headers.CacheControl = "public, max-age=60";
            return TypedResults.Ok(new ClientConfig(
                Seconds(tokens.Value.AccessTokenLifetime), Seconds(sessions.Value.IdleTimeout), Seconds(sessions.Value.AbsoluteLifetime),
                Seconds(sessions.Value.ActivityWriteInterval)));
        }).WithName("GetClientConfig").WithSummary("Lifetimes a client schedules its refreshes and activity marks by")
            .WithResponseHeader(StatusCodes.Status200OK, "Cache-Control", "public, max-age=60");
        return auth;
    }

    private static int Seconds(TimeSpan span) => (int)span.TotalSeconds;
}
