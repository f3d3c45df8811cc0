using System.Diagnostics;
using System.Text;

namespace Platform.Testing;

/// <summary>A finished command: <see cref="Output"/> is stdout and stderr interleaved (for messages), <see cref="StandardOutput"/> stdout alone (to parse).</summary>
public sealed record CommandResult(int ExitCode, string Output, string StandardOutput)
{
    public CommandResult EnsureSuccess(string what) =>
        ExitCode == 0 ? this : throw new InvalidOperationException($"{what} failed with exit code {ExitCode}:\n{Output}");
}

public static class ShellCommand
{
    /// <summary>Runs a program to completion with extra environment variables, capturing stdout and stderr together and stdout alone.</summary>
    public static async Task<CommandResult> RunAsync(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, string? standardInput = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}");
        var output = new StringBuilder();
        var standardOutput = new StringBuilder();
        var gate = new Lock();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (gate) { output.AppendLine(e.Data); standardOutput.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (gate) { output.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish in {timeout.TotalSeconds:0} s:\n{output}");
        }
        process.WaitForExit();
        lock (gate)
        {
            return new CommandResult(process.ExitCode, output.ToString(), standardOutput.ToString());
        }
    }
}
