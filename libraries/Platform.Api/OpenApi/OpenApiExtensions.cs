using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Platform.Hosting.Http;

namespace Platform.Api.OpenApi;

/// <summary>
/// The service's OpenAPI 3.1 document at <c>/openapi/v1.json</c>, built from its endpoints and their metadata. Health,
/// metrics and <c>/internal/*</c> are left out: the document describes what clients may call. So is the HEAD of each
/// GET (<see cref="HeadRequests"/>), which the description of the API states once. <c>OpenApi__Enabled=false</c> turns
/// it off.
/// </summary>
public static class OpenApiExtensions
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";
    public const string EnabledSetting = "OpenApi:Enabled";

    /// <param name="tags">Each tag the service's endpoints carry, with what it groups.</param>
    public static WebApplicationBuilder AddPlatformOpenApi(this WebApplicationBuilder builder, string title, string description, IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(tags);
        builder.Services.AddOpenApi(DocumentName, options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            // A HEAD that only mirrors its GET (HeadRequests) is not an operation of its own: the document says it once.
            options.ShouldInclude = description => description.RelativePath is { } path && !IsInternal("/" + path)
                && !(HttpMethods.IsHead(description.HttpMethod ?? "") && description.ActionDescriptor.EndpointMetadata.OfType<ImplicitHeadMetadata>().Any());
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = title, Version = DocumentName, Description = description + " " + HeadRequests.DocumentNote };
                // Relative: the document is read through the gateway or a port-forward as often as directly.
                document.Servers = [new OpenApiServer { Url = "/" }];
                document.Tags = new HashSet<OpenApiTag>(tags.Select(tag => new OpenApiTag { Name = tag.Key, Description = tag.Value }));
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[PlatformOperationTransformer.BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "The accessToken of POST /api/auth/login or /api/auth/refresh (ES256, 10 minutes).",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer<PlatformOperationTransformer>();
            options.AddSchemaTransformer(NumberSchemas.AsWritten);
            options.AddSchemaTransformer(AllowedValuesSchemas.AsEnum);
        });
        return builder;
    }

    public static WebApplication MapPlatformOpenApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Configuration.GetValue(EnabledSetting, true))
        {
            // Built once, on the first request: the document cannot change while the process runs, and building it
            // (reflection over every endpoint, then the transformers) cost tens of milliseconds of CPU on every request —
            // and every gateway pod asks each service again every minute (ApiDocs:RefreshSeconds).
            var document = new Lazy<Task<byte[]>>(() => BuildAsync(app.Services));
            app.MapGet(DocumentPath, async () => Results.Bytes(await document.Value, "application/json;charset=utf-8"))
                .AllowAnonymous().ExcludeFromDescription().AnswerHeadLikeGet();
        }
        return app;
    }

    private static async Task<byte[]> BuildAsync(IServiceProvider services)
    {
        var document = await services.GetRequiredKeyedService<IOpenApiDocumentProvider>(DocumentName).GetOpenApiDocumentAsync();
        using var json = new MemoryStream();
        await document.SerializeAsJsonAsync(json, OpenApiSpecVersion.OpenApi3_1);
        return json.ToArray();
    }

    /// <summary>What only the cluster calls: probes, Prometheus and the operator's <c>/internal/*</c>.</summary>
    public static bool IsInternal(string path) =>
        path is "/healthz" or "/readyz" or "/metrics" || path.StartsWith("/internal/", StringComparison.OrdinalIgnoreCase)
        || path.StartsWith(DocumentPath, StringComparison.OrdinalIgnoreCase);
}
