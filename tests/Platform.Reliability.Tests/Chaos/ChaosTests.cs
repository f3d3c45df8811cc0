using System.Diagnostics;
using Platform.Contracts.Events;
using Platform.Testing;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// Each dependency, and one service, taken away under steady load and brought back the way <c>make run</c> brings
/// back whatever is not running. Every drill writes its row of the report before it asserts.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class ChaosTests(ReliabilityPlatform platform)
{
    [Fact]
    [Trait("Category", "Drill")]
    public async Task Redis_down_under_load_costs_no_5xx()
    {
        var drill = await DrillAsync("Redis stopped", DataTier.Redis);

        Record(drill, "zero 5xx", drill.ServerErrors.Count == 0);
        Assert.Empty(drill.ServerErrors);
    }

    /// <summary>
    /// Redis frozen (SIGSTOP) under load: its connections stay open and nothing answers. The services count it lost
    /// after two unanswered pings and fall back as for a stopped Redis; before, every request that touched Redis waited
    /// out the client's 2 s timeout until the client gave the connection up, a minute or more later.
    /// </summary>
    [Fact]
    [Trait("Category", "Drill")]
    public async Task Redis_hung_under_load_costs_no_5xx_and_slows_only_its_first_seconds()
    {
        IDisposable? frozen = null;
        DrillResult drill;
        try
        {
            drill = await FaultDrill.RunAsync(platform, "Redis hung",
                () => { frozen = DataTierProcesses.Freeze(platform.Tier, DataTier.Redis, "redis-server"); return Task.CompletedTask; },
                () => { frozen?.Dispose(); frozen = null; return Task.CompletedTask; });
        }
        finally
        {
            frozen?.Dispose(); // the drill failed before its repair: later drills need Redis
        }
        // Requests wait out the client's 2 s timeout until three pings a second apart have gone unanswered: those that
        // start after that must not wait at all, so the last slow one started within about five seconds of the hang.
        var slow = drill.DuringFault.Where(s => s.Elapsed > TimeSpan.FromSeconds(1)).ToList();
        var lastSlowStarted = slow.Count == 0 ? TimeSpan.Zero : slow.Max(s => s.At) - drill.BrokenAt;
        var fastFrom = TimeSpan.FromSeconds(5);

        Record(drill, "zero 5xx; no answer slower than 1 s that started 5 s or more into the hang",
            drill.ServerErrors.Count == 0 && lastSlowStarted < fastFrom,
            $"answers slower than 1 s during the hang: {slow.Count}; the last of them started {Report.Ms(lastSlowStarted)} into it " +
            $"(the hang lasted {Report.Ms(drill.RestoredAt - drill.BrokenAt)}).");
        Assert.Empty(drill.ServerErrors);
        Assert.True(lastSlowStarted < fastFrom, $"an answer slower than 1 s started {lastSlowStarted.TotalSeconds:F1} s into the hang");
    }

    [Fact]
    [Trait("Category", "Drill")]
    public async Task The_read_replica_down_under_load_costs_no_5xx()
    {
        var drill = await DrillAsync("read replica stopped", DataTier.Replica);

        Record(drill, "zero 5xx", drill.ServerErrors.Count == 0);
        Assert.Empty(drill.ServerErrors);
    }

    [Fact]
    [Trait("Category", "Drill")]
    public async Task RabbitMQ_down_under_load_costs_no_5xx_and_every_event_is_delivered_once_afterwards()
    {
        await using var tap = await EventTap.StartAsync(platform.Tier.RabbitMqUri, EventTypes.TaskCreated);
        var drill = await DrillAsync("RabbitMQ stopped", DataTier.RabbitMq);
        var created = drill.Samples.Count(s => s.Route == LoadGenerator.TasksCreate && s.Status == 201);
        var delivered = await Poll.UntilAsync(() => Task.FromResult(tap.Unique), count => count >= created, TimeSpan.FromSeconds(90), $"{created} task.created events");

        Record(drill, "zero 5xx; every event delivered", drill.ServerErrors.Count == 0 && delivered == created,
            $"task.created produced (201s): {created}; delivered: {delivered}; lost: {created - delivered}; deliveries of an id seen before: {tap.Redelivered}.");
        Assert.Empty(drill.ServerErrors);
        Assert.Equal(created, delivered);
    }

    [Fact]
    [Trait("Category", "Drill")]
    public async Task The_primary_down_under_load_is_fast_503s_and_the_services_recover_without_a_restart()
    {
        var before = ServiceProcesses();
        var drill = await DrillAsync("PostgreSQL primary stopped", DataTier.Primary);
        var not503 = drill.ServerErrors.Where(s => s.Status != 503).ToList();
        var hangs = drill.Samples.Where(s => s.Elapsed > TimeSpan.FromSeconds(10)).ToList();

        Record(drill, "5xx only fast 503 problem details; no restart", not503.Count == 0 && hangs.Count == 0 && ServiceProcesses().SequenceEqual(before),
            $"5xx other than 503: {not503.Count}; answers slower than 10 s: {hangs.Count}; problem types of the 5xx: " +
            string.Join(", ", drill.ServerErrors.GroupBy(s => s.ProblemType).Select(g => $"{g.Key}×{g.Count()}")) +
            $"; service processes unchanged: {ServiceProcesses().SequenceEqual(before)}.");
        Assert.Empty(not503);
        Assert.Empty(hangs);
        Assert.All(drill.ServerErrors, s => Assert.Equal("https://platform.dev/problems/service-unavailable", s.ProblemType));
        Assert.Equal(before, ServiceProcesses());
    }

    [Fact]
    [Trait("Category", "Drill")]
    public async Task A_killed_service_gets_fast_503s_from_the_breaker_on_its_routes_only()
    {
        var drill = await FaultDrill.RunAsync(platform, "tasks service killed", async () =>
        {
            var pid = platform.ProcessId("tasks");
            using (var tasks = Process.GetProcessById(pid))
            {
                tasks.Kill();
            }
            // Not WaitForExitAsync: for a process that is not our child .NET notices the exit only on a SIGCHLD of
            // its own children, which may never come.
            await Poll.UntilAsync(() => Task.FromResult(!Directory.Exists($"/proc/{pid}")), TimeSpan.FromSeconds(10), "the tasks process to be gone");
        }, RestartAsync);
        var tasksRoutes = new[] { LoadGenerator.TasksList, LoadGenerator.TasksCreate };
        var elsewhere = drill.ServerErrors.Where(s => !tasksRoutes.Contains(s.Route)).ToList();
        var firstOpen = drill.ServerErrors.Where(s => s.Status == 503).Select(s => s.At).DefaultIfEmpty(drill.RestoredAt).Min();
        var slowOnceOpen = drill.ServerErrors.Where(s => s.At > firstOpen + TimeSpan.FromSeconds(1) && s.Elapsed > TimeSpan.FromSeconds(1)).ToList();

        Record(drill, "fast 503s on /api/tasks only", elsewhere.Count == 0 && slowOnceOpen.Count == 0,
            $"5xx on other routes: {elsewhere.Count}; 5xx slower than 1 s once the circuit opened: {slowOnceOpen.Count}; " +
            $"first 503 {Report.Ms(firstOpen - drill.BrokenAt)} after the kill.");
        Assert.Empty(elsewhere);
        Assert.Empty(slowOnceOpen);
        Assert.Contains(drill.ServerErrors, s => s.Status == 503);
    }

    private Task<DrillResult> DrillAsync(string fault, string component) =>
        FaultDrill.RunAsync(platform, fault, () => platform.Tier.DownAsync(component), RestartAsync);

    /// <summary><c>make run</c> again: it starts whatever is not running and leaves the rest alone.</summary>
    private async Task RestartAsync() => (await platform.PlatformAsync("up")).EnsureSuccess("platform.sh up");

    private static readonly string[] Services = ["auth", "tasks", "files", "gateway"];

    private int[] ServiceProcesses() => [.. Services.Select(platform.ProcessId)];

    internal static void Record(DrillResult drill, string expectation, bool held, string? notes = null)
    {
        var name = string.Concat(drill.Fault.Select(c => char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-'));
        Report.Write("chaos", name, $"""
            ### {drill.Fault}

            {Report.Table(DrillResult.Header, [drill.Row(expectation, held ? "as expected" : "**NOT as expected**")])}
            {notes}

            {drill.PerRoute()}
            """);
    }
}
