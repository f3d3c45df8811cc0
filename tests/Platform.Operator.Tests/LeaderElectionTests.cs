using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Operator.Kubernetes;
using Platform.Operator.Runtime;
using Platform.Operator.Tests.Emulator;
using Platform.Testing;
using static Platform.Operator.Tests.Emulator.EmulatorClient;

namespace Platform.Operator.Tests;

/// <summary>
/// Two operator instances on one emulator, with a 3 s lease renewed every second; and, for clock skew, bare electors
/// (each with its own clock) with a 3 s lease, 2 s renew deadline and 0.5 s retry.
/// </summary>
public sealed class LeaderElectionTests : IAsyncLifetime
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan RetryPeriod = TimeSpan.FromSeconds(1);
    private static readonly LeaderElectionTimings Timings = new(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(0.5));
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

        // Never two leaders. (On a loaded machine a leader may miss its renew deadline and step down before it or the
        // other leads again: a moment without one is allowed, two at once never.)
        for (var sample = 0; sample < 20; sample++)
        {
            Assert.False(a.Runtime.IsLeader && b.Runtime.IsLeader,
                $"sample {sample}: both lead\n{string.Join('\n', a.Warnings.Concat(b.Warnings))}");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
        await Poll.UntilAsync(() => Task.FromResult(a.Runtime.IsLeader ^ b.Runtime.IsLeader), TimeSpan.FromSeconds(10), "exactly one leading");
        var (leader, standby) = a.Runtime.IsLeader ? (a, b) : (b, a);
        Assert.Equal(leader.Identity, Holder());
        Assert.All(ReportingInstances(), instance => Assert.Equal(leader.Identity, instance));

        // A crash: the leader's credentials stop working, so it can neither renew nor release the lease.
        emulator.AcceptedTokens = new HashSet<string> { leader == a ? "token-b" : "token-a" };
        var died = Stopwatch.StartNew();
        await Poll.UntilAsync(() => Task.FromResult(Holder() == standby.Identity && standby.Runtime.IsLeader), TimeSpan.FromSeconds(20), "the standby leading");
        var takeover = died.Elapsed;
        await Poll.UntilAsync(() => Task.FromResult(!leader.Runtime.IsLeader), TimeSpan.FromSeconds(5), "the old leader stepping down");

        // The standby sees the dead leader's last renewal (made before it died) at most a RetryPeriod after it was
        // written, counts the lease duration from then on its own clock, and tries every RetryPeriod: LeaseDuration +
        // 2 RetryPeriods at most, as with client-go, plus one more period for a loaded machine's timers and this
        // test's polling.
        Assert.True(takeover <= LeaseDuration + (3 * RetryPeriod), $"took over after {takeover.TotalSeconds:F1} s");
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

    /// <summary>
    /// The renew time in the Lease comes from the holder's clock. A standby an hour ahead that compared it with its own
    /// clock would take the lease at once, while the holder still renews it: two leaders until the holder's next renewal.
    /// </summary>
    [Fact]
    public async Task A_standby_whose_clock_runs_ahead_does_not_take_a_lease_the_holder_keeps_renewing()
    {
        await using var holder = Candidate.Start(emulator, "holder", "token-a", TimeProvider.System);
        await Poll.UntilAsync(() => Task.FromResult(holder.Elector.IsLeader), TimeSpan.FromSeconds(10), "the holder leading");
        await using var standby = Candidate.Start(emulator, "standby", "token-b", new OffsetClock(TimeSpan.FromHours(1)));

        await Task.Delay(3 * Timings.LeaseDuration);

        // Trusting the holder's renew time, the standby would find the lease expired at every try (18 of them) and take it.
        // The holder itself may miss its renew deadline on a loaded machine and lead again: that is no transition.
        Assert.False(standby.EverLed, "the standby, its clock an hour ahead, took the lease the holder kept renewing");
        Assert.Equal(0, emulator.Find(Leases, "platform-operator")!["spec"]!["leaseTransitions"]!.GetValue<int>());
        await Poll.UntilAsync(() => Task.FromResult(holder.Elector.IsLeader), TimeSpan.FromSeconds(10), "the holder leading");
        Assert.Equal("holder", Holder());
    }

    /// <summary>An hour behind, a standby that trusted the holder's renew time would wait an hour; it waits a lease duration.</summary>
    [Fact]
    public async Task A_standby_whose_clock_runs_behind_takes_over_within_the_lease_duration_when_the_holder_dies()
    {
        await using var holder = Candidate.Start(emulator, "holder", "token-a", TimeProvider.System);
        await Poll.UntilAsync(() => Task.FromResult(holder.Elector.IsLeader), TimeSpan.FromSeconds(10), "the holder leading");
        await using var standby = Candidate.Start(emulator, "standby", "token-b", new OffsetClock(-TimeSpan.FromHours(1)));
        await Task.Delay(2 * Timings.LeaseDuration);
        Assert.False(standby.EverLed, "the standby took the lease the holder kept renewing");

        // A crash: the holder's credentials stop working, so it can neither renew nor release the lease.
        emulator.AcceptedTokens = new HashSet<string> { "token-b" };
        var died = Stopwatch.StartNew();
        await Poll.UntilAsync(() => Task.FromResult(standby.Elector.IsLeader && Holder() == "standby"), TimeSpan.FromSeconds(20), "the standby leading");
        var takeover = died.Elapsed;

        // The standby saw the last renewal at most a retry period after it was written, and tries every retry period
        // from then: the lease duration and a retry period, plus 3 s for a loaded machine's timers and this polling
        // (trusting the renew time, it would wait an hour).
        Assert.True(takeover <= Timings.LeaseDuration + Timings.RetryPeriod + TimeSpan.FromSeconds(3), $"took over after {takeover.TotalSeconds:F1} s");
        Assert.False(holder.Ended, "the refused holder's elector ended instead of trying again");
    }

    /// <summary>
    /// A standby cannot tell how long ago a lease it has just seen was last renewed (the renew time is another clock's),
    /// so, as in client-go, it waits a whole lease duration even for a lease whose renew time is an hour old.
    /// </summary>
    [Fact]
    public async Task A_standby_waits_a_lease_duration_from_first_sight_even_if_the_renew_time_is_long_past()
    {
        var hourAgo = DateTime.UtcNow.AddHours(-1).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        emulator.Put(Leases, new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = new JsonObject { ["name"] = "platform-operator" },
            ["spec"] = new JsonObject { ["holderIdentity"] = "gone", ["leaseDurationSeconds"] = 3, ["acquireTime"] = hourAgo, ["renewTime"] = hourAgo, ["leaseTransitions"] = 0 },
        });

        var started = Stopwatch.StartNew();
        await using var standby = Candidate.Start(emulator, "standby", "token-b", TimeProvider.System);
        await Poll.UntilAsync(() => Task.FromResult(standby.Elector.IsLeader), TimeSpan.FromSeconds(10), "the standby leading");

        Assert.True(started.Elapsed >= Timings.LeaseDuration, $"took over after {started.Elapsed.TotalSeconds:F1} s");
        Assert.Equal("standby", Holder());
    }

    /// <summary>Who wrote the Events: each names the operator instance that reconciled.</summary>
    private IEnumerable<string> ReportingInstances() => emulator.List(Events).Select(e => e["reportingInstance"]!.GetValue<string>()).Distinct();

    /// <summary>A bare elector on the operator's lease, with its own clock and token; it "works" until its leadership ends.</summary>
    private sealed class Candidate : IAsyncDisposable
    {
        private readonly KubernetesApi api;
        private readonly CancellationTokenSource stop = new();
        private Task running = Task.CompletedTask;
        private int terms;

        private Candidate(KubernetesApi api, LeaderElector elector)
        {
            this.api = api;
            Elector = elector;
        }

        public LeaderElector Elector { get; }

        /// <summary>How many times it has started leading.</summary>
        public int Terms => Volatile.Read(ref terms);

        public bool EverLed => Terms > 0;

        /// <summary>Whether its elector has stopped, which only disposal should do.</summary>
        public bool Ended => running.IsCompleted;

        public static Candidate Start(ApiServerEmulator emulator, string identity, string token, TimeProvider clock)
        {
            var api = Connect(emulator, token: token);
            var candidate = new Candidate(api, new LeaderElector(api, "platform-operator", identity, Timings, clock, NullLogger.Instance));
            candidate.running = Task.Run(() => candidate.Elector.RunAsync(
                work => Task.Delay(Timeout.Infinite, work),
                leading => { if (leading) { Interlocked.Increment(ref candidate.terms); } },
                candidate.stop.Token));
            return candidate;
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
                // Stopped while a standby.
            }
            stop.Dispose();
            api.Dispose();
        }
    }

    /// <summary>The system clock set off by <paramref name="offset"/>, as on a node whose clock has drifted; its timers run as usual.</summary>
    private sealed class OffsetClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => TimeProvider.System.GetUtcNow() + offset;
    }
}
