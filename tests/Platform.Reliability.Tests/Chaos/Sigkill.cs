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
        var dataDirectory = Path.Combine(tier.RunDirectory, "data", component);
        // PostgreSQL, Redis and RabbitMQ all work in their data directory: that names a run dir's processes exactly.
        var victims = Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Command(pid) == executable && WorkingDirectory(pid) == dataDirectory)
            .ToList();
        if (victims.Count == 0)
        {
            throw new InvalidOperationException($"No {executable} process works in {dataDirectory}.");
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
        Poll.UntilAsync(() => Task.FromResult(!File.Exists($"/proc/{pid}/stat") || State(pid) is 'Z' or 'X'), TimeSpan.FromSeconds(10), $"process {pid} to be gone");

    private static string? Command(int pid) => Read($"/proc/{pid}/comm")?.Trim();

    private static char State(int pid) => Read($"/proc/{pid}/stat") is { } stat ? stat[(stat.LastIndexOf(')') + 2)..][0] : 'X';

    private static string? WorkingDirectory(int pid)
    {
        try
        {
            return File.ResolveLinkTarget($"/proc/{pid}/cwd", returnFinalTarget: false)?.FullName;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
