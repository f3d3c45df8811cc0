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
}
