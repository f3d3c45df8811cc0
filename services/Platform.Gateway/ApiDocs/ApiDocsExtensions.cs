using Platform.Gateway.Edge;
using Platform.Hosting.Http;
using Platform.Hosting.Problems;
using Scalar.AspNetCore;

namespace Platform.Gateway.ApiDocs;

public static class ApiDocsExtensions
{
    public const string DocumentPath = "/api/openapi.json";
    public const string PagePath = "/api/docs";

    public static WebApplicationBuilder AddApiDocs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiDocsOptions>().BindConfiguration(ApiDocsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        if (builder.Configuration.GetValue($"{ApiDocsOptions.Section}:{nameof(ApiDocsOptions.Enabled)}", true))
        {
            builder.Services.AddSingleton<ApiDocument>();
            builder.Services.AddHostedService(services => services.GetRequiredService<ApiDocument>());
        }
        return builder;
    }

    /// <summary>
    /// <c>GET /api/openapi.json</c> and the docs page <c>/api/docs</c> (Scalar, its script served from the gateway itself,
    /// no fonts, telemetry, AI chat or MCP server elsewhere): anonymous, and outside the proxy pipeline, so no rate limit applies — the
    /// document is served from memory.
    /// </summary>
    public static WebApplication MapApiDocs(this WebApplication app)
    {
        var options = app.Configuration.GetSection(ApiDocsOptions.Section).Get<ApiDocsOptions>() ?? new ApiDocsOptions();
        if (!options.Enabled)
        {
            return app;
        }
        app.MapGet(DocumentPath, async (ApiDocument document, HttpContext context) =>
        {
            if (document.Json is not { } json)
            {
                context.Response.Headers.RetryAfter = "2";
                await context.WriteProblemAsync(StatusCodes.Status503ServiceUnavailable, ProblemTypes.ServiceUnavailable,
                    "The API document is not assembled yet.", "Not every service has published its document to the gateway yet.");
                return;
            }
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "public, max-age=60";
            await context.Response.Body.WriteAsync(json, context.RequestAborted);
        }).AllowAnonymous().ExcludeFromDescription().AnswerHeadLikeGet();
        if (options.PageEnabled)
        {
            app.MapScalarApiReference(PagePath, scalar => scalar
                .WithTitle("Platform API")
                .WithOpenApiRoutePattern(DocumentPath)
                .DisableDefaultFonts()
                .DisableTelemetry()
                .DisableAgent() // the page's AI chat would send our API document to a third party
                .DisableMcp())
                .AllowAnonymous().AnswerHeadLikeGet();
        }
        return app;
    }
}
