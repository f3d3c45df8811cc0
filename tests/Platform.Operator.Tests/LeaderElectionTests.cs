using System.Diagnostics;
using Platform.Operator.Tests.Emulator;
using Platform.Testing;
using static Platform.Operator.Tests.Emulator.EmulatorClient;

namespace Platform.Operator.Tests;

/// <summary>Two operator instances on one emulator, with a 3 s lease renewed every second.</summary>
public sealed class LeaderElectionTests : IAsyncLifetime
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan RetryPeriod = TimeSpan.FromSeconds(1);
    private ApiServerEmulator emulator = null!;

    public async Task InitializeAsync()
    {
        emulator = await ApiServerEmulator.StartAsync();
        emulator.AcceptedTokens = new HashSet<string> { "token-a", "token-b" };
    }

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    private string? Holder() => emulator.Find(Leases, "platform-operator")?["spec"]?["holderIdentity"]?.GetValue<string>();

    [Fact]
    public async Task Exactly_one_instance_reconciles_and_the_other_takes_over_within_the_lease_duration_when_it_dies()
    {
        await using var a = await OperatorUnderTest.StartAsync(emulator, "operator-a", token: "token-a");
        await using var b = await OperatorUnderTest.StartAsync(emulator, "operator-b", token: "token-b");
        emulator.Put(Rotations, Objects.Rotation("keys", "keyset"));
        await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Secrets, "keyset") is not null), TimeSpan.FromSeconds(30), "the keyset");

        for (var sample = 0; sample < 20; sample++)
        {
            Assert.True(a.Runtime.IsLeader ^ b.Runtime.IsLeader,
                $"sample {sample}: a leads {a.Runtime.IsLeader}, b leads {b.Runtime.IsLeader}\n{string.Join('\n', a.Warnings.Concat(b.Warnings))}");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
        var (leader, standby) = a.Runtime.IsLeader ? (a, b) : (b, a);
        Assert.Equal(leader.Identity, Holder());
        Assert.All(ReportingInstances(), instance => Assert.Equal(leader.Identity, instance));

        // A crash: the leader's credentials stop working, so it can neither renew nor release the lease.
        emulator.AcceptedTokens = new HashSet<string> { leader == a ? "token-b" : "token-a" };
        var died = Stopwatch.StartNew();
        await Poll.UntilAsync(() => Task.FromResult(Holder() == standby.Identity && standby.Runtime.IsLeader), TimeSpan.FromSeconds(20), "the standby leading");
        var takeover = died.Elapsed;
        await Poll.UntilAsync(() => Task.FromResult(!leader.Runtime.IsLeader), TimeSpan.FromSeconds(5), "the old leader stepping down");

        // The lease expires at most LeaseDuration after the dead leader's last renewal (made before it died), and
        // the standby tries every RetryPeriod: LeaseDuration + RetryPeriod at most, plus one more period for a
        // loaded machine's timers and this test's polling (the bound had no margin at all).
        Assert.True(takeover <= LeaseDuration + (2 * RetryPeriod), $"took over after {takeover.TotalSeconds:F1} s");
        Assert.False(leader.Runtime.IsLeader);
        emulator.Remove(Secrets, "keyset");
        await Poll.UntilAsync(() => Task.FromResult(emulator.Find(Secrets, "keyset") is not null), TimeSpan.FromSeconds(30), "the new leader reconciling");
        Assert.Contains(standby.Identity, ReportingInstances());
    }

    [Fact]
    public async Task A_leader_shut_down_releases_the_lease_so_the_standby_need_not_wait_it_out()
    {
        var a = await OperatorUnderTest.StartAsync(emulator, "operator-a", token: "token-a");
        await Poll.UntilAsync(() => Task.FromResult(a.Runtime.IsLeader), TimeSpan.FromSeconds(10), "a leading");
        await using var b = await OperatorUnderTest.StartAsync(emulator, "operator-b", token: "token-b");

        var stopped = Stopwatch.StartNew();
        await a.DisposeAsync();
        await Poll.UntilAsync(() => Task.FromResult(b.Runtime.IsLeader), TimeSpan.FromSeconds(10), "b leading");

        Assert.True(stopped.Elapsed < LeaseDuration, $"took over after {stopped.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// An API server that takes a request and never answers (a half-open connection, a stuck proxy) must not keep a
    /// leader working: without an answer by the renew deadline it stops, as its lease may soon pass to a standby.
    /// </summary>
    [Fact]
    public async Task A_leader_whose_renewal_hangs_steps_down_at_its_renew_deadline()
    {
        await using var a = await OperatorUnderTest.StartAsync(emulator, "operator-a", token: "token-a");
        await Poll.UntilAsync(() => Task.FromResult(a.Runtime.IsLeader), TimeSpan.FromSeconds(10), "a leading");

        emulator.Faults = new EmulatorFaults(Latency: TimeSpan.FromMinutes(5));
        var hung = Stopwatch.StartNew();
        try
        {
            await Poll.UntilAsync(() => Task.FromResult(!a.Runtime.IsLeader), TimeSpan.FromSeconds(20), "a stepping down");
        }
        finally
        {
            emulator.Faults = EmulatorFaults.None;
        }

        // The renew deadline (2 s) counts from the last renewal, which began before the hang: about 2 s, with the rest
        // of the bound for a loaded machine's timers. Before the deadline was enforced the leader led until the request ended.
        Assert.True(hung.Elapsed < LeaseDuration + RetryPeriod, $"stepped down {hung.Elapsed.TotalSeconds:F1} s after the API server stopped answering");
        Assert.Contains(a.Warnings, line => line.Contains("renew deadline", StringComparison.Ordinal));
    }

    /// <summary>Who wrote the Events: each names the operator instance that reconciled.</summary>
    private IEnumerable<string> ReportingInstances() => emulator.List(Events).Select(e => e["reportingInstance"]!.GetValue<string>()).Distinct();
}
