using Platform.Hosting.Http;

namespace Platform.Gateway.Upstreams;

public static class HealthApi
{
    /// <summary>
    /// <c>GET /api/health</c>: public, whether each part of the platform can take requests — by name only, never
    /// addresses. 200 when all can, 503 otherwise, never cached.
    /// </summary>
    public static IEndpointConventionBuilder MapPlatformHealth(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/health", (UpstreamHealth health, HttpContext context) =>
            {
                var services = health.Snapshot().ToDictionary(pair => pair.Key, pair => pair.Value ? "up" : "down", StringComparer.Ordinal);
                var allUp = services.Values.All(state => state == "up");
                context.Response.Headers.CacheControl = "no-store";
                return TypedResults.Json(new { status = allUp ? "up" : "degraded", services },
                    statusCode: allUp ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
            })
            .AllowAnonymous().AnswerHeadLikeGet();
}
