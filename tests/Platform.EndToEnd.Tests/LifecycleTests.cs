using System.Diagnostics;
using System.Net;
using Platform.Testing;

namespace Platform.EndToEnd.Tests;

[Collection(LocalPlatformCollection.Name)]
public sealed class LifecycleTests(EndToEndPlatform platform)
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
        var servicePids = ServiceNames
            .Select(service => int.Parse(File.ReadAllText(PidFile(service)).Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.All(servicePids, pid => Assert.True(IsAlive(pid)));
        var running = ProcessesOfRunDirectory();
        Assert.Superset(servicePids.ToHashSet(), running.ToHashSet());
        Assert.True(running.Count > servicePids.Count, "the data tier's processes should be visible too");

        var down = (await platform.PlatformAsync("down")).EnsureSuccess("platform.sh down");

        Assert.DoesNotContain("killing", down.Output, StringComparison.Ordinal); // every service stopped on SIGTERM
        Assert.Empty(ProcessesOfRunDirectory());
        Assert.All(servicePids, pid => Assert.False(IsAlive(pid), $"service process {pid} survived platform.sh down"));

        (await platform.PlatformAsync("up")).EnsureSuccess("platform.sh up after down");
        using var ready = await platform.Client.GetAsync(new Uri(platform.Services["gateway"], "/readyz"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    /// <summary>Every process whose command line names this platform's run directory, and the services started from it.</summary>
    private List<int> ProcessesOfRunDirectory()
    {
        var runDirectory = platform.Tier.RunDirectory;
        var pids = new List<int>();
        foreach (var process in Process.GetProcesses())
        {
            try
            {
                var commandLine = File.ReadAllText($"/proc/{process.Id}/cmdline").Replace('\0', ' ');
                if (commandLine.Contains(runDirectory, StringComparison.Ordinal) || IsServiceProcess(process.Id))
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

    private static readonly string[] ServiceNames = ["auth", "tasks", "files", "gateway"];

    private string PidFile(string service) => Path.Combine(platform.Tier.RunDirectory, "pids", service + ".pid");

    private bool IsServiceProcess(int pid) =>
        ServiceNames.Select(PidFile).Any(file => File.Exists(file) && File.ReadAllText(file).Trim() == pid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");
}
