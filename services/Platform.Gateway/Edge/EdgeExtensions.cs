using Microsoft.AspNetCore.HttpOverrides;

namespace Platform.Gateway.Edge;

public static class EdgeExtensions
{
    /// <summary>Forwarded-header trust and the CORS allowlist, from the <c>Edge</c> section.</summary>
    public static WebApplicationBuilder AddEdge(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<EdgeOptions>().BindConfiguration(EdgeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var edge = builder.Configuration.GetSection(EdgeOptions.Section).Get<EdgeOptions>() ?? new EdgeOptions();
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // The framework trusts loopback by default; at the edge only what is configured is trusted.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var network in edge.TrustedProxies)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
            options.ForwardLimit = edge.ProxyHops;
        });
        builder.Services.AddCors(options => options.AddDefaultPolicy(policy => policy
            .WithOrigins([.. edge.CorsOrigins])
            .WithMethods("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
            .WithHeaders("Authorization", "Content-Type", "If-Match", "If-None-Match", "Range", "Last-Event-ID", RequestIds.Header)
            .WithExposedHeaders("ETag", "Location", "Retry-After", "Content-Range", "RateLimit-Limit", "RateLimit-Remaining",
                "RateLimit-Reset", "RateLimit-Policy", "WWW-Authenticate", RequestIds.Header)
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        return builder;
    }

    /// <summary>
    /// The edge's own middleware, before routing and authentication: the client's real address first (rate
    /// limits and X-Forwarded-For depend on it), then request ids and security headers on every answer, the
    /// draining of bodies a refusal left unread, then CORS — before routing, so a preflight is answered here for every route whatever methods it maps.
    /// </summary>
    public static WebApplication UseEdge(this WebApplication app)
    {
        app.UseEdgePeer();
        app.UseForwardedHeaders();
        app.UseRequestIds();
        app.UseSecurityHeaders();
        app.UseRefusedBodyDraining();
        app.UseCors();
        app.UseRouting();
        return app;
    }
}
