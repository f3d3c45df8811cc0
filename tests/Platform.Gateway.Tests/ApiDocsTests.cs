using System.Net;
using System.Text.Json.Nodes;
using Platform.Testing;

namespace Platform.Gateway.Tests;

[Collection(GatewayPlatformCollection.Name)]
public sealed class ApiDocsTests(GatewayPlatform platform)
{
    [Fact]
    public async Task The_merged_document_and_the_docs_page_are_public()
    {
        using var http = new HttpClient { BaseAddress = platform.Gateway };

        using var document = await http.GetAsync("/api/openapi.json");
        using var page = await http.GetAsync("/api/docs/");

        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        // Nothing on the page talks to a third party: Scalar's AI chat and MCP server are off.
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("\"agent\":{\"disabled\":true}", html, StringComparison.Ordinal);
        Assert.Contains("\"mcp\":{\"disabled\":true}", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_merged_document_holds_the_operations_of_every_upstream_whatever_http_version_the_gateway_speaks_to_it()
    {
        using var http = new HttpClient { BaseAddress = platform.Gateway };

        // auth and tasks are reached over HTTP/2 only, files over HTTP/1.1 (UpstreamProtocolTests).
        var paths = await Poll.UntilAsync(async () =>
            {
                using var document = await http.GetAsync("/api/openapi.json");
                return document.IsSuccessStatusCode
                    ? JsonNode.Parse(await document.Content.ReadAsStringAsync())?["paths"]?.AsObject().Select(path => path.Key).ToHashSet() ?? []
                    : [];
            },
            found => found.Contains("/api/auth/login") && found.Contains("/api/tasks") && found.Contains("/api/files"),
            TimeSpan.FromSeconds(30), "the merged document to hold auth's, tasks' and files' paths");

        Assert.Contains("/api/tasks/{id}", paths);
    }

    [Fact]
    public async Task Turned_off_the_document_and_the_page_are_unknown_routes()
    {
        await using var gateway = InProcessGateway.Start(platform, new Dictionary<string, string?> { ["ApiDocs:Enabled"] = "false" });
        using var http = gateway.CreateRealClient();

        using var document = await http.GetAsync("/api/openapi.json");
        using var page = await http.GetAsync("/api/docs/");

        Assert.Equal(HttpStatusCode.Unauthorized, document.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
    }
}
