namespace Platform.Gateway.Edge;

public static class SecurityHeaders
{
    /// <summary>
    /// Headers every answer from the edge carries, set when the response starts so they replace whatever an
    /// upstream sent rather than doubling it. HSTS only over HTTPS: over plain HTTP a browser ignores it anyway.
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                var http = (HttpContext)state;
                var headers = http.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                if (http.Request.IsHttps)
                {
                    headers.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
                }
                return Task.CompletedTask;
            }, context);
            return next(context);
        });
}
