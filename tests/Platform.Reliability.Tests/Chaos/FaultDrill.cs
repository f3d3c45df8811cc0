using Platform.Testing;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>What one fault under load came to, in the terms of the report.</summary>
public sealed record DrillResult(string Fault, IReadOnlyList<Sample> Samples, TimeSpan BrokenAt, TimeSpan RestoredAt, TimeSpan RecoveredAt)
{
    public IEnumerable<Sample> DuringFault => Samples.Where(s => s.At >= BrokenAt && s.At < RestoredAt);

    public IReadOnlyList<Sample> ServerErrors => [.. Samples.Where(s => s.ServerError)];

    /// <summary>From the first 5xx to the last one answered; zero without any.</summary>
    public TimeSpan ServerErrorSpan => ServerErrors.Count == 0 ? TimeSpan.Zero : ServerErrors.Max(s => s.At + s.Elapsed) - ServerErrors.Min(s => s.At);

    public TimeSpan Recovery => RecoveredAt - RestoredAt;

    public TimeSpan Slowest => Samples.Max(s => s.Elapsed);

    public string Statuses => string.Join(" ", Samples.GroupBy(s => s.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"));

    public IReadOnlyList<object> Row(string expectation, string verdict) =>
    [
        Fault, expectation, Samples.Count, DuringFault.Count(), Samples.Count(s => s.Ok), ServerErrors.Count, Report.Seconds(ServerErrorSpan),
        Samples.Count(s => !s.Ok && !s.ServerError), Report.Ms(Slowest), Report.Seconds(RestoredAt - BrokenAt), Report.Seconds(Recovery), Statuses, verdict,
    ];

    public static readonly string[] Header =
    [
        "fault", "expected", "requests", "during fault", "2xx", "5xx", "5xx span", "other failures", "slowest", "fault held", "recovery", "statuses", "verdict",
    ];

    public string PerRoute() => Report.Table(["route", "requests", "2xx", "5xx", "slowest during fault"], Samples.GroupBy(s => s.Route).OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => (IReadOnlyList<object>)[g.Key, g.Count(), g.Count(s => s.Ok), g.Count(s => s.ServerError),
            Report.Ms(g.Where(s => s.At >= BrokenAt && s.At < RestoredAt).Select(s => s.Elapsed).DefaultIfEmpty().Max())]));
}

/// <summary>
/// Steady load; at least a few seconds of it, the last two without a failure; the fault; <see cref="Hold"/> of it; the repair; then load until every request
/// has succeeded for two seconds (the recovery time is from the repair to the last failure before that).
/// </summary>
public static class FaultDrill
{
    public static readonly TimeSpan Baseline = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan Hold = TimeSpan.FromSeconds(12);

    public static async Task<DrillResult> RunAsync(ReliabilityPlatform platform, string fault, Func<Task> breakIt, Func<Task> repair, Func<LoadGenerator, Task>? duringFault = null)
    {
        async Task<PlatformUser?> TrySignUpAsync()
        {
            try
            {
                return await platform.SignUpAsync("chaos");
            }
            catch (HttpRequestException)
            {
                return null;
            }
        }

        // The stage may have restarted a server (the disk-full drill moves the primary onto a small disk), and a
        // service's first write after that can meet a pooled connection that died with it: wait for a sign-up to go
        // through before counting anything.
        var first = await Poll.UntilAsync(TrySignUpAsync, user => user is not null, TimeSpan.FromSeconds(30), "a sign-up before the drill");
        var users = new List<PlatformUser> { first! };
        for (var i = 1; i < 4; i++)
        {
            users.Add(await platform.SignUpAsync("chaos"));
        }
        var load = new LoadGenerator(platform, users);
        TimeSpan brokenAt, restoredAt, recoveredAt;
        try
        {
            load.Start();
            // Steady, healthy load before the fault: a drill starts only from a platform that answers everything.
            await load.RecoveredAsync(Baseline, TimeSpan.FromSeconds(60));
            brokenAt = load.Now;
            await breakIt();
            var held = Task.Delay(Hold); // how long the fault lasts is the experiment's choice, not a wait for a condition
            if (duringFault is not null)
            {
                await duringFault(load);
            }
            await held;
            restoredAt = load.Now;
            await repair();
            recoveredAt = await load.RecoveredAsync(restoredAt, TimeSpan.FromSeconds(90));
        }
        finally
        {
            await load.DisposeAsync();
        }
        return new DrillResult(fault, load.Samples, brokenAt, restoredAt, recoveredAt);
    }
}
