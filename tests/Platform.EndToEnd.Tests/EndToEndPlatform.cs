using System.Net;
using System.Text.Json.Nodes;
using Platform.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Platform.EndToEnd.Tests;

/// <summary>The platform as <c>make run</c> starts it, once for the end-to-end collection.</summary>
public sealed class EndToEndPlatform() : LocalPlatform("endtoend", 25500, GenerousRateLimits), IAsyncLifetime
{
    private ApiContract? contract;

    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    /// <summary>The gateway's merged document, once it has assembled it from every service's.</summary>
    public async Task<ApiContract> ContractAsync()
    {
        if (contract is null)
        {
            var json = await Poll.UntilAsync(async () =>
                {
                    using var response = await Client.GetAsync(new Uri(Services["gateway"], "/api/openapi.json"));
                    return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : null;
                },
                text => text is not null, TimeSpan.FromSeconds(30), "the gateway to publish its merged API document");
            contract = new ApiContract(JsonNode.Parse(json!)!.AsObject());
        }
        return contract;
    }

    /// <summary>A client of the gateway whose every answer is checked against the document.</summary>
    public async Task<(HttpClient Http, ContractCheckingHandler Checker)> CheckedClientAsync()
    {
        var checker = new ContractCheckingHandler(await ContractAsync());
        return (new HttpClient(checker) { BaseAddress = Services["gateway"], Timeout = TimeSpan.FromSeconds(30) }, checker);
    }
}

[CollectionDefinition(Name)]
public sealed class LocalPlatformCollection : ICollectionFixture<EndToEndPlatform>
{
    public const string Name = "local platform";
}
