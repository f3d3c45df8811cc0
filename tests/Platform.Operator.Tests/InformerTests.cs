using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Operator.Runtime;
using Platform.Operator.Tests.Emulator;
using Platform.Testing;
using static Platform.Operator.Tests.Emulator.EmulatorClient;

namespace Platform.Operator.Tests;

/// <summary>The informer against the API-server emulator.</summary>
public sealed class InformerTests : IAsyncLifetime
{
    private ApiServerEmulator emulator = null!;

    public async Task InitializeAsync() => emulator = await ApiServerEmulator.StartAsync();

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    /// <summary>
    /// An instance that lost its lease stops its informers, and their caches stay as they were; when it leads again
    /// its worker must wait for a fresh list, not decide on what it saw before (possibly hours ago).
    /// </summary>
    [Fact]
    public async Task An_informer_run_again_is_not_synced_until_it_has_listed_anew()
    {
        using var api = Connect(emulator);
        var informer = new Informer<V1Secret>(api, null, TimeSpan.FromMinutes(5), (_, _) => { }, TimeProvider.System, NullLogger.Instance);
        using (var firstTerm = new CancellationTokenSource())
        {
            var running = informer.RunAsync(firstTerm.Token);
            await Poll.UntilAsync(() => Task.FromResult(informer.HasSynced), TimeSpan.FromSeconds(10), "the first list");
            await firstTerm.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        }
        emulator.Put(Secrets, new System.Text.Json.Nodes.JsonObject { ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "while-away" } });

        // The list answers only after a delay: with an instant answer the list could complete on another thread before
        // the assertion below runs (it did, once, on a loaded CI machine).
        emulator.Faults = new EmulatorFaults(Latency: TimeSpan.FromSeconds(3));
        using var secondTerm = new CancellationTokenSource();
        var again = informer.RunAsync(secondTerm.Token);
        Assert.False(informer.HasSynced, "synced on the previous term's cache");
        await Poll.UntilAsync(() => Task.FromResult(informer.HasSynced), TimeSpan.FromSeconds(10), "the second term's list");
        Assert.NotNull(informer.Find("while-away"));
        await secondTerm.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => again);
    }
}
