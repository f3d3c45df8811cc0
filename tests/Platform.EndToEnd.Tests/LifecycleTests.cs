using System.Diagnostics;
using System.Net;
using Platform.Testing;

namespace Platform.EndToEnd.Tests;

[Collection(LocalPlatformCollection.Name)]
public sealed class LifecycleTests(LocalPlatform platform)
{
    [Fact]
    public async Task Up_is_idempotent_and_starts_nothing_twice()
    {
        var before = ProcessesOfRunDirectory();

        var again = (await platform.PlatformAsync("up")).EnsureSuccess("second platform.sh up");

        Assert.Contains("gateway already running", again.Output, StringComparison.Ordinal);
        Assert.Equal(before, ProcessesOfRunDirectory());
    }

    [Fact]
    public async Task Down_leaves_no_process_behind_and_up_brings_everything_back()
    {
        var servicePids = Directory.GetFiles(Path.Combine(platform.Tier.RunDirectory, "pids"), "*.pid")
            .Select(file => int.Parse(File.ReadAllText(file).Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(4, servicePids.Count);

        (await platform.PlatformAsync("down")).EnsureSuccess("platform.sh down");

        Assert.Empty(ProcessesOfRunDirectory());
        Assert.All(servicePids, pid => Assert.False(IsAlive(pid), $"service process {pid} survived platform.sh down"));

        (await platform.PlatformAsync("up")).EnsureSuccess("platform.sh up after down");
        using var ready = await platform.Client.GetAsync(new Uri(platform.Services["gateway"], "/readyz"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    /// <summary>Every process whose command line names this platform's run directory or one of its ports' services.</summary>
    private List<int> ProcessesOfRunDirectory()
    {
        var runDirectory = platform.Tier.RunDirectory;
        var pids = new List<int>();
        foreach (var process in Process.GetProcesses())
        {
            try
            {
                var commandLine = File.ReadAllText($"/proc/{process.Id}/cmdline").Replace('\0', ' ');
                if (commandLine.Contains(runDirectory, StringComparison.Ordinal) || OwnsServicePort(process.Id))
                {
                    pids.Add(process.Id);
                }
            }
            catch (IOException)
            {
                // the process ended while we looked
            }
            catch (UnauthorizedAccessException)
            {
            }
            finally
            {
                process.Dispose();
            }
        }
        pids.Sort();
        return pids;
    }

    private bool OwnsServicePort(int pid)
    {
        var pidFiles = Path.Combine(platform.Tier.RunDirectory, "pids");
        return Directory.Exists(pidFiles) && Directory.GetFiles(pidFiles, "*.pid").Any(file => File.ReadAllText(file).Trim() == pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");
}
