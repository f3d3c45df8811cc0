using System.Globalization;
using Platform.Testing;

namespace Platform.Reliability.Tests;

/// <summary>
/// `make soak` runs for half an hour or more and is not in CI, so what it measures and how it judges is tested here:
/// the live-heap measure against this very process (a real dotnet-gcdump of a real heap), the verdicts against
/// sample files written for each bound.
/// </summary>
public sealed class SoakMeasureTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task The_live_heap_measure_counts_the_objects_a_process_holds()
    {
        const int Count = 1_000_000;
        var held = new SoakProbe[Count];
        for (var i = 0; i < held.Length; i++)
        {
            held[i] = new SoakProbe(i);
        }
        var directory = Directory.CreateTempSubdirectory("soak-heap-").FullName;
        try
        {
            var result = await ShellCommand.RunAsync("bash", ["scripts/soak.sh", "heap", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), directory], null, Timeout);
            GC.KeepAlive(held);

            result.EnsureSuccess("scripts/soak.sh heap");
            var liveKiB = long.Parse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture);
            // heapstat: the total first, then per type and size class the size of one object, the count, the type.
            var report = File.ReadAllLines(Path.Combine(directory, $"{Environment.ProcessId}.gcdump.txt"));
            var fields = report.Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
            var probes = Assert.Single(fields, f => f.Length >= 3 && f[2] == nameof(SoakProbe));
            Assert.Equal(Count, long.Parse(probes[1], NumberStyles.AllowThousands, CultureInfo.InvariantCulture));
            Assert.InRange(long.Parse(probes[0], NumberStyles.AllowThousands, CultureInfo.InvariantCulture), 24, 32);
            // The total is the report's first line, and covers the probes and the array holding them (8 MB of references).
            Assert.Equal("GC Heap bytes", string.Join(' ', fields[0][1..]));
            Assert.Equal(long.Parse(fields[0][0], NumberStyles.AllowThousands, CultureInfo.InvariantCulture) / 1024, liveKiB);
            Assert.True(liveKiB * 1024 >= Count * (24L + 8), $"live heap {liveKiB} KiB");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_live_heap_that_grows_after_the_warm_up_is_a_leak()
    {
        var result = await ReportAsync(Sample(0, live: 5_000), Sample(100, live: 10_000), Sample(200, live: 12_000));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("| tasks | live heap, full GC (MiB) | 9.8 | 11.7 | 11.7 | +70.3 | +10 % | **exceeded** |", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Growth_of_the_heap_after_the_last_collection_alone_is_printed_not_judged()
    {
        var result = await ReportAsync(Sample(100, afterGc: 10_000, live: 10_000), Sample(200, afterGc: 20_000, live: 10_500));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("| tasks | heap after last GC (MiB) | 9.8 | 19.5 | 19.5 | +351.6 | printed |  |", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("| tasks | live heap, full GC (MiB) | 9.8 | 10.3 | 10.3 | +17.6 | +10 % | within |", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Descriptors_that_keep_growing_and_memory_over_the_chart_limit_are_reported()
    {
        var result = await ReportAsync(Sample(100, fds: 300), Sample(200, fds: 317, pssKiB: 600 * 1024));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("| tasks | open fds | 300 | 317 | 317 | +612.0 | +16 | **exceeded** |", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("| tasks | memory (PSS, MiB) | 150.0 | 600.0 | 600.0 | +16200.0 | max <= 512 MiB | **exceeded** |", result.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>A line of scripts/soak.sh's samples file for tasks: seconds, PSS KiB, fds, threads, TCP, heap after GC KiB, live heap KiB.</summary>
    private static string Sample(int at, long pssKiB = 150 * 1024, int fds = 300, long? afterGc = null, long? live = null) =>
        string.Join('\t', at, "tasks", pssKiB, fds, 30, 10, afterGc?.ToString(CultureInfo.InvariantCulture) ?? "", live?.ToString(CultureInfo.InvariantCulture) ?? "");

    private static async Task<CommandResult> ReportAsync(params string[] samples)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(file, samples);
            return await ShellCommand.RunAsync("bash", ["scripts/soak.sh", "report", file], new Dictionary<string, string> { ["SOAK_WARMUP"] = "100" }, Timeout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private sealed record SoakProbe(long Value);
}
