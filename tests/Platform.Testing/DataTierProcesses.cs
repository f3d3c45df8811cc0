namespace Platform.Testing;

/// <summary>The processes of a data-tier server started by <see cref="DataTier"/>, for tests that kill or freeze them.</summary>
public static class DataTierProcesses
{
    /// <summary>
    /// Every process of a component (e.g. the postmaster and all its backends): PostgreSQL, Redis and RabbitMQ all
    /// work in their data directory, which names a run directory's processes exactly.
    /// </summary>
    public static List<int> Of(DataTier tier, string component, string executable)
    {
        ArgumentNullException.ThrowIfNull(tier);
        var dataDirectory = Path.Combine(tier.RunDirectory, "data", component);
        return Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Command(pid) == executable && WorkingDirectory(pid) == dataDirectory)
            .ToList();
    }

    /// <summary>
    /// Stops (SIGSTOP) every process of a component until the result is disposed (SIGCONT): a server that hangs with
    /// its connections open, as a frozen process or a partition that drops packets does. A process that exits
    /// meanwhile (a PostgreSQL backend) is no error; no process at all is.
    /// </summary>
    public static IDisposable Freeze(DataTier tier, string component, string executable)
    {
        var frozen = Of(tier, component, executable);
        if (frozen.Count == 0)
        {
            throw new InvalidOperationException($"No {executable} process of {component} to freeze.");
        }
        Signal("STOP", frozen);
        return new Thawing(frozen);
    }

    private sealed class Thawing(List<int> frozen) : IDisposable
    {
        public void Dispose() => Signal("CONT", frozen);
    }

    /// <summary>Signals each process that is still there; never throws, so a thaw cannot hide a test's own failure.</summary>
    private static void Signal(string signal, List<int> pids)
    {
        using var kill = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("kill",
            [$"-{signal}", .. pids.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))]) { RedirectStandardError = true })!;
        kill.StandardError.ReadToEnd(); // "No such process" for one that exited: the others are signalled all the same
        kill.WaitForExit();
    }

    /// <summary>The process's state letter from /proc (R, S, T, Z…); X when it is gone.</summary>
    public static char State(int pid) => Read($"/proc/{pid}/stat") is { } stat ? stat[(stat.LastIndexOf(')') + 2)..][0] : 'X';

    private static string? Command(int pid) => Read($"/proc/{pid}/comm")?.Trim();

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
