using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Tasks.Tests;

[Collection(TasksTierCollection.Name)]
public sealed class OpenApiDocumentTests(TasksTierFixture fixture) : IAsyncLifetime
{
    private TasksHost host = null!;

    public async Task InitializeAsync() => host = await TasksHost.StartAsync(fixture, "tasks_openapi");

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task The_document_lists_every_endpoint_the_service_maps_and_nothing_internal()
    {
        using var http = host.CreateRealClient();

        var document = await http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        Assert.Equal("3.1.1", document.GetProperty("openapi").GetString());
        var internalOnes = ApiDocumentCoverage.AssertCovers(host.Services, document);
        Assert.Contains(internalOnes, operation => operation.EndsWith(" /metrics", StringComparison.Ordinal));
    }
}
