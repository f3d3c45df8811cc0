using System.Net;
using System.Text.Json.Nodes;
using Platform.Api.OpenApi;
using Platform.Testing;

namespace Platform.EndToEnd.Tests;

/// <summary>The gateway's merged document: what it covers, that a real linter accepts it, and the docs page.</summary>
[Collection(LocalPlatformCollection.Name)]
public sealed class ApiDocumentTests(EndToEndPlatform platform)
{
    private static readonly string[] Upstreams = ["auth", "tasks", "files"];

    /// <summary>What the gateway answers itself rather than forwards.</summary>
    private static readonly string[] EdgeOperations = ["GET /api/events"];

    [Fact]
    public async Task The_merged_document_has_every_operation_of_every_service_and_the_gateways_own_and_nothing_else()
    {
        var merged = (await platform.ContractAsync()).Document;
        var expected = new List<string>(EdgeOperations);
        foreach (var service in Upstreams)
        {
            expected.AddRange(Operations(await ServiceDocumentAsync(service)));
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), Operations(merged).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(Operations(merged), operation => OpenApiExtensions.IsInternal(operation[(operation.IndexOf(' ', StringComparison.Ordinal) + 1)..]));
    }

    [Fact]
    public async Task Public_routes_are_marked_and_every_other_requires_the_bearer_token()
    {
        var paths = (await platform.ContractAsync()).Document["paths"]!;

        var login = paths["/api/auth/login"]!["post"]!;
        Assert.True(login[ApiDocsPublicExtension]!.GetValue<bool>());
        Assert.Empty(login["security"]!.AsArray());
        var tasks = paths["/api/tasks"]!["get"]!;
        Assert.NotNull(tasks["security"]![0]!["Bearer"]);
        Assert.Null(tasks[ApiDocsPublicExtension]);
        Assert.NotNull(tasks["responses"]!["429"]);
    }

    [Fact]
    public async Task The_document_and_the_docs_page_are_public_and_load_nothing_from_elsewhere()
    {
        await platform.ContractAsync(); // the gateway assembles its first document a moment after it starts; wait for it
        using var document = await platform.Client.GetAsync(new Uri(platform.Services["gateway"], "/api/openapi.json"));
        using var page = await platform.Client.GetAsync(new Uri(platform.Services["gateway"], "/api/docs/"));
        var html = await page.Content.ReadAsStringAsync();
        using var script = await platform.Client.GetAsync(new Uri(platform.Services["gateway"], "/api/docs/scalar.js"));

        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Equal("application/json", document.Content.Headers.ContentType?.MediaType);
        Assert.False(document.Headers.Contains("RateLimit-Limit"), "the document is outside the rate limits");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.DoesNotMatch(@"(src|href)\s*=\s*[""']?(https?:)?//", html);
        Assert.Contains("\"telemetry\":false", html, StringComparison.Ordinal);
        Assert.Contains("\"withDefaultFonts\":false", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redocly_lints_the_merged_document_and_each_services_without_a_problem()
    {
        var directory = Path.Combine(platform.Tier.RunDirectory, "openapi");
        Directory.CreateDirectory(directory);
        var files = new List<string> { Path.Combine(directory, "gateway.json") };
        await File.WriteAllTextAsync(files[0], (await platform.ContractAsync()).Document.ToJsonString());
        foreach (var service in Upstreams)
        {
            files.Add(Path.Combine(directory, service + ".json"));
            await File.WriteAllTextAsync(files[^1], (await ServiceDocumentAsync(service)).ToJsonString());
        }

        var lint = await ShellCommand.RunAsync(ProjectTools.Redocly, ["lint", "--config", Path.Combine(RepoPaths.Root, "redocly.yaml"), .. files],
            environment: new Dictionary<string, string> { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true" }, TimeSpan.FromMinutes(2));

        Assert.True(lint.ExitCode == 0, lint.Output);
        Assert.DoesNotMatch(@"(?i)\b[1-9][0-9]* (warning|error)s?\b", lint.Output);
    }

    private const string ApiDocsPublicExtension = "x-platform-public";

    private async Task<JsonObject> ServiceDocumentAsync(string service)
    {
        var json = await platform.Client.GetStringAsync(new Uri(platform.Services[service], OpenApiExtensions.DocumentPath));
        return JsonNode.Parse(json)!.AsObject();
    }

    private static IEnumerable<string> Operations(JsonObject document) =>
        document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject()
            .Where(operation => operation.Key is "get" or "put" or "post" or "delete" or "patch" or "head" or "options")
            .Select(operation => $"{operation.Key.ToUpperInvariant()} {path.Key}"));
}
