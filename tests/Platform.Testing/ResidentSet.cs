using System.Globalization;

namespace Platform.Testing;

/// <summary>The resident set (VmRSS) of a process, read from /proc, and a sampler that keeps its peak.</summary>
public sealed class ResidentSet : IDisposable
{
    private readonly int processId;
    private readonly CancellationTokenSource stop = new();
    private readonly Thread thread;
    private long peak;

    /// <summary>Starts sampling every 50 ms on its own thread, so a busy thread pool cannot hide a peak.</summary>
    public ResidentSet(int processId)
    {
        this.processId = processId;
        peak = BytesOf(processId);
        thread = new Thread(() =>
        {
            while (!stop.Token.WaitHandle.WaitOne(50))
            {
                var now = BytesOf(this.processId);
                if (now > Interlocked.Read(ref peak))
                {
                    Interlocked.Exchange(ref peak, now);
                }
            }
        }) { IsBackground = true, Name = "VmRSS sampler" };
        thread.Start();
    }

    public long Peak => Math.Max(Interlocked.Read(ref peak), BytesOf(processId));

    public static long BytesOf(int processId)
    {
        foreach (var line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"/proc/{processId}/status has no VmRSS");
    }

    public void Dispose()
    {
        stop.Cancel();
        thread.Join();
        stop.Dispose();
    }
}
