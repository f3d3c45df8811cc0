using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class OpenApiDocumentTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private AuthHost host = null!;

    public async Task InitializeAsync() => host = await AuthHost.StartAsync(fixture.Tier, "auth_openapi");

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task The_document_lists_every_endpoint_the_service_maps_and_nothing_internal()
    {
        using var http = host.CreateRealClient();

        var document = await http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var internalOnes = ApiDocumentCoverage.AssertCovers(host.Services, document);
        Assert.Contains("GET /internal/keyset", internalOnes);
        Assert.Contains(internalOnes, operation => operation.EndsWith(" /metrics", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Public_operations_say_so_and_the_others_require_the_bearer_scheme()
    {
        using var http = host.CreateRealClient();

        var document = await http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        Assert.Equal(0, paths.GetProperty("/api/auth/login").GetProperty("post").GetProperty("security").GetArrayLength());
        var me = paths.GetProperty("/api/auth/me").GetProperty("get");
        Assert.True(me.GetProperty("security")[0].TryGetProperty("Bearer", out _));
        Assert.Equal("http", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("type").GetString());
        var unauthorizedTypes = me.GetProperty("responses").GetProperty("401").GetProperty("content").GetProperty("application/problem+json")
            .GetProperty("schema").GetProperty("allOf")[1].GetProperty("properties").GetProperty("type").GetProperty("enum");
        Assert.Equal(["https://platform.dev/problems/unauthorized"], unauthorizedTypes.EnumerateArray().Select(t => t.GetString()));
    }
}
