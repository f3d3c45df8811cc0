using System.Diagnostics;
using Platform.Testing;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// SIGKILL, the way the OOM killer or a node losing a container ends a process: no signal handler runs, no buffer
/// is flushed, no goodbye reaches a client. The drills use it instead of the scripts' clean stops, which let a
/// server finish what it was doing.
/// </summary>
public static class Sigkill
{
    /// <summary>Every process of a data-tier component (e.g. the postmaster and all its backends), killed at once.</summary>
    public static async Task<int> ComponentAsync(DataTier tier, string component, string executable)
    {
        var victims = DataTierProcesses.Of(tier, component, executable);
        if (victims.Count == 0)
        {
            throw new InvalidOperationException($"No {executable} process works in {component}'s data directory.");
        }
        foreach (var pid in victims)
        {
            Kill(pid);
        }
        foreach (var pid in victims)
        {
            await GoneAsync(pid);
        }
        return victims.Count;
    }

    public static async Task ProcessAsync(int pid)
    {
        Kill(pid);
        await GoneAsync(pid);
    }

    private static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(); // SIGKILL on Linux
        }
        catch (ArgumentException)
        {
            // Already gone: a backend may exit on its own once its postmaster has been killed.
        }
    }

    /// <summary>
    /// Not WaitForExitAsync: for a process that is not our child .NET notices the exit only on a SIGCHLD of its own
    /// children, which may never come. A zombie (state Z) is gone for every purpose here.
    /// </summary>
    private static Task GoneAsync(int pid) =>
        Poll.UntilAsync(() => Task.FromResult(!File.Exists($"/proc/{pid}/stat") || DataTierProcesses.State(pid) is 'Z' or 'X'), TimeSpan.FromSeconds(10), $"process {pid} to be gone");
}
