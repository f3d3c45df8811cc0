using System.Diagnostics;

namespace Platform.Operator.Tests.Deployed;

/// <summary>A built service or operator run as its own process (`dotnet X.dll args`), its output in a log file, killed on dispose.</summary>
public sealed class DotnetProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    private DotnetProcess(Process process, StreamWriter log, string logFile)
    {
        this.process = process;
        this.log = log;
        LogFile = logFile;
    }

    public string LogFile { get; }

    public static DotnetProcess Start(string assembly, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string logFile)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(logFile)!,
        };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {assembly}");
        var log = new StreamWriter(logFile) { AutoFlush = true };
        var gate = new Lock();
        DataReceivedEventHandler write = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (gate)
                {
                    log.WriteLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += write;
        process.ErrorDataReceived += write;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new DotnetProcess(process, log, logFile);
    }

    /// <summary>The end of its log, for a failure message.</summary>
    public string Tail(int lines = 40)
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var all = new StreamReader(stream).ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException exception)
        {
            return $"(no log: {exception.Message})";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        // Returns once the output is read to its end, so nothing writes to the log after it is closed.
        await process.WaitForExitAsync();
        process.Dispose();
        await log.DisposeAsync();
    }
}
