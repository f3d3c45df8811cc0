namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// The row every SIGKILL drill writes: what was killed, what had to hold, the figures that say whether it did.
/// Written before the drill asserts, so a broken promise is in docs/reliability.md too.
/// </summary>
public static class KillDrillReport
{
    private static readonly string[] Header = ["fault", "expected", "acknowledged", "lost", "duplicates", "recovery", "figures", "verdict"];

    public static void Write(string section, string fault, string expectation, object acknowledged, object lost, object duplicates, TimeSpan recovery,
        string figures, bool held, string? notes = null) =>
        Report.Write("chaos", section, $"""
            ### {fault}

            {Report.Table(Header, [[fault, expectation, acknowledged, lost, duplicates, Report.Seconds(recovery), figures, held ? "as expected" : "**NOT as expected**"]])}
            {notes}
            """);

    public static string Statuses(IEnumerable<int> statuses) =>
        string.Join(" ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"));
}
