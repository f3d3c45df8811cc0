using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Files.Tests;

[Collection(FilesTierCollection.Name)]
public sealed class OpenApiDocumentTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private FilesPlatform platform = null!;

    public async Task InitializeAsync() => platform = await FilesPlatform.StartAsync(fixture.Tier, "files_openapi");

    public async Task DisposeAsync() => await platform.DisposeAsync();

    [Fact]
    public async Task The_document_lists_every_endpoint_the_service_maps_and_nothing_internal()
    {
        using var http = new HttpClient { BaseAddress = platform.Files.Address };

        var document = await http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var internalOnes = ApiDocumentCoverage.AssertCovers(platform.Files.Services, document);
        Assert.Contains(internalOnes, operation => operation.EndsWith(" /metrics", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_content_heads_answers_describe_headers_and_no_body()
    {
        using var http = new HttpClient { BaseAddress = platform.Files.Address };

        var document = await http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var responses = document.GetProperty("paths").GetProperty("/api/files/{id}/content").GetProperty("head").GetProperty("responses");
        Assert.Equal(["200", "206", "304", "401", "404", "412", "416", "500", "503"], responses.EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.All(responses.EnumerateObject(), response => Assert.False(response.Value.TryGetProperty("content", out _), $"{response.Name} describes a body"));
        Assert.True(responses.GetProperty("416").GetProperty("headers").TryGetProperty("Content-Range", out _));
        var get = document.GetProperty("paths").GetProperty("/api/files/{id}/content").GetProperty("get").GetProperty("responses");
        Assert.True(get.GetProperty("416").TryGetProperty("content", out _));
    }
}
