using Platform.Testing;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// The primary's disk full under steady load, honestly: its data directory (WAL included) moved onto a tmpfs of its
/// own (small-disk.sh) and filled to the last byte with a ballast file, so PostgreSQL meets ENOSPC where it really
/// writes. While full the services answer fast 503 problem details, not 500s and not hangs; once the ballast is
/// deleted they serve again, without a restart of anything.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class DiskFullTests(ReliabilityPlatform platform)
{
    private const int HeadroomMiB = 48;

    [Fact]
    [Trait("Category", "Drill")]
    public async Task The_primary_disk_full_under_load_is_fast_503s_and_recovers_once_space_returns()
    {
        var ballast = Path.Combine(platform.Tier.RunDirectory, "data", DataTier.Primary, "ballast");
        long filled = 0;
        await SmallDiskAsync("mount", HeadroomMiB.ToString(System.Globalization.CultureInfo.InvariantCulture));
        DrillResult drill;
        try
        {
            // The repair is only the space: PostgreSQL refuses what it cannot write and stays up, so nothing is restarted.
            drill = await FaultDrill.RunAsync(platform, "primary's disk full", async () => filled = await FillAsync(ballast), () =>
            {
                File.Delete(ballast);
                return Task.CompletedTask;
            });
        }
        finally
        {
            await SmallDiskAsync("unmount");
        }
        var not503 = drill.ServerErrors.Where(s => s.Status != 503).ToList();
        var hangs = drill.Samples.Where(s => s.Elapsed > TimeSpan.FromSeconds(10)).ToList();
        var refusedDuringFault = drill.DuringFault.Count(s => s.Status == 503);

        ChaosTests.Record(drill, "fast 503 problem details while full (none other than 503, none slower than 10 s); serves again once space returns",
            not503.Count == 0 && hangs.Count == 0 && refusedDuringFault > 0,
            $"Ballast written until ENOSPC: {filled / 1024 / 1024} MiB (the data directory on a {HeadroomMiB} MiB-headroom tmpfs); 503s while full: {refusedDuringFault}; " +
            $"5xx other than 503: {not503.Count} ({string.Join(", ", not503.GroupBy(s => $"{s.Status} {s.Route}").Select(g => $"{g.Key}×{g.Count()}"))}); " +
            $"answers slower than 10 s: {hangs.Count} (started before the fault: {hangs.Count(s => s.At < drill.BrokenAt)}, while full: " +
            $"{hangs.Count(s => s.At >= drill.BrokenAt && s.At < drill.RestoredAt)}, after the ballast went: {hangs.Count(s => s.At >= drill.RestoredAt)}). " +
            "The repair deletes the ballast and nothing else (no restart).");
        Assert.Empty(not503);
        Assert.Empty(hangs);
        Assert.True(refusedDuringFault > 0, "writes went on succeeding on a full disk: the drill did not fill it");
        Assert.All(drill.ServerErrors, s => Assert.Equal("https://platform.dev/problems/service-unavailable", s.ProblemType));
    }

    /// <summary>Zeros until the filesystem refuses another byte; returns how many were written.</summary>
    private static async Task<long> FillAsync(string path)
    {
        var block = new byte[1024 * 1024];
        long written = 0;
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true)
            {
                await file.WriteAsync(block);
                written += block.Length;
            }
        }
        catch (IOException)
        {
            // ENOSPC: full. What a partial last block left is full too.
        }
        return written;
    }

    private async Task SmallDiskAsync(params string[] arguments) =>
        (await ShellCommand.RunAsync("bash", [Path.Combine(RepoPaths.Root, "tests", "Platform.Reliability.Tests", "Chaos", "small-disk.sh"), .. arguments],
            platform.Environment, TimeSpan.FromMinutes(3))).EnsureSuccess("small-disk.sh " + string.Join(' ', arguments));
}
