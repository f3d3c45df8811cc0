using System.Text.Json;
using Platform.Contracts.Keys;
using Platform.Operator.Keys;
using Platform.Operator.Tests.Emulator;
using Platform.Testing;
using static Platform.Operator.Tests.Emulator.EmulatorClient;

namespace Platform.Operator.Tests;

/// <summary>
/// One in five requests fails (500, or 409 for writes), every request is 5 ms late, and watch streams close
/// every second or two: both controllers still reach the desired state, and the record of every write the
/// emulator applied shows no key published twice, never two pending keys, and one autoscaler per service.
/// </summary>
public sealed class ConvergenceUnderFaultsTests : IAsyncLifetime
{
    private ApiServerEmulator emulator = null!;

    public async Task InitializeAsync() => emulator = await ApiServerEmulator.StartAsync();

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    [Fact]
    public async Task Both_controllers_converge_with_20_percent_failures_and_dropping_watches_without_duplicate_writes()
    {
        emulator.Put(Deployments, Objects.Deployment("tasks"));
        emulator.Put(Deployments, Objects.Deployment("files"));
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset", rotationPeriod: "6s", prePublish: "2s", retireAfter: "3s"));
        emulator.Put(Policies, Objects.Policy("platform", 100_000, ("tasks", 0.5m, 500, 2, 200), ("files", 0.2m, 100, 2, 150)));
        emulator.Faults = new EmulatorFaults(ErrorRate: 0.2, WatchLifetime: TimeSpan.FromSeconds(1.5), Latency: TimeSpan.FromMilliseconds(5));
        await using var operatorInstance = await OperatorUnderTest.StartAsync(emulator, "operator-0", resyncSeconds: 10);

        await Poll.UntilAsync(() => Task.FromResult(Objects.Condition(emulator.Find(Policies, "platform"), "Ready") == "True"), TimeSpan.FromSeconds(60), "the policy Ready");
        Assert.Equal(120, emulator.Find(Autoscalers, "tasks")!["spec"]!["maxReplicas"]!.GetValue<int>());
        Assert.Equal(150, emulator.Find(Autoscalers, "files")!["spec"]!["maxReplicas"]!.GetValue<int>());
        // The policy may be Ready before the rotation's first write got through the faults: wait for the keyset too.
        var firstKid = (await Poll.UntilAsync(() => Task.FromResult(Objects.KeysetIn(emulator.Find(Secrets, "keyset"))), k => k is not null,
            TimeSpan.FromSeconds(60), "the first keyset"))!.Keys[0].Kid;
        await Poll.UntilAsync(
            () => Task.FromResult(Objects.KeysetIn(emulator.Find(Secrets, "keyset")) is { } k && k.Keys.All(key => key.Kid != firstKid)
                && Objects.Status(emulator.Find(Rotations, "keys"), "activeKid") == Keyset.ActiveAt(k.Keys, DateTimeOffset.UtcNow)?.Kid),
            TimeSpan.FromSeconds(60), "the first key rotated out and the status reporting the active key");
        emulator.Faults = EmulatorFaults.None;

        var keysets = emulator.Writes.Where(w => w.Collection == Secrets && w.Verb != "DELETED").Select(w => Objects.KeysetIn(w.Snapshot)!).ToList();
        var removed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < keysets.Count; i++)
        {
            Assert.True(keysets[i].Version > (i == 0 ? 0 : keysets[i - 1].Version), "keyset versions only grow");
            Assert.True(keysets[i].Keys.Count(k => k.RetiresAt is null) == 1, $"version {keysets[i].Version} has {keysets[i].Keys.Count(k => k.RetiresAt is null)} keys without a successor");
            if (i > 0)
            {
                removed.UnionWith(keysets[i - 1].Keys.Select(k => k.Kid).Except(keysets[i].Keys.Select(k => k.Kid)));
            }
            Assert.Empty(keysets[i].Keys.Select(k => k.Kid).Intersect(removed));
        }
        var everyKid = keysets.SelectMany(k => k.Keys).Select(k => k.Kid).Distinct().Count();
        var published = keysets.Zip(keysets.Skip(1)).Sum(pair => pair.Second.Keys.Count(k => pair.First.Keys.All(old => old.Kid != k.Kid))) + keysets[0].Keys.Count;
        Assert.Equal(everyKid, published);
        Assert.Equal(2, emulator.Writes.Count(w => w.Collection == Autoscalers && w.Verb == "ADDED"));
        Assert.DoesNotContain(emulator.Writes, w => w.Collection == Autoscalers && w.Verb == "DELETED");
        Assert.True(emulator.RequestCount > 50, $"only {emulator.RequestCount} requests: the faults were hardly exercised");
        _ = JsonSerializer.Serialize(keysets.Last(), Keyset.JsonOptions);
    }
}
