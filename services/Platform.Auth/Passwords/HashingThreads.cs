using System.Collections.Concurrent;

namespace Platform.Auth.Passwords;

/// <summary>
/// Dedicated threads for CPU-bound work long enough to hurt everyone else (a bcrypt hash: about 130 ms). On the thread
/// pool such work holds the workers the pool then replaces, and during a login storm on two shared cores `make
/// bench` scenario 8 measured cached reads' p99 at 5–67× their p99 alone; on these threads, 0.9–1.6×
/// (bench/results/2026-12-05-hashing-threads-ab.md). Each thread runs one piece of work at a time; the callers' own
/// concurrency limit bounds the queue. They run at normal priority: at Linux's idle priority (SCHED_IDLE, tried) one
/// full run in three saw that p99 at 33×, probably because a starved managed thread holds up its whole process — the
/// garbage collector must stop every thread before it collects.
/// </summary>
public sealed class HashingThreads : IDisposable
{
    /// <summary>The threads' name, as the kernel shows it (/proc/…/task/…/comm).</summary>
    public const string ThreadName = "password hash";

    private readonly BlockingCollection<Action> work = new(new ConcurrentQueue<Action>());

    public HashingThreads(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        for (var i = 0; i < count; i++)
        {
            new Thread(Run) { IsBackground = true, Name = ThreadName }.Start();
        }
    }

    /// <summary>Runs <paramref name="compute"/> on one of the threads; its exception, if any, is the task's.</summary>
    public Task<T> RunAsync<T>(Func<T> compute)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(() =>
        {
            try
            {
                completion.SetResult(compute());
            }
#pragma warning disable CA1031 // the caller gets the exception through its task
            catch (Exception exception)
#pragma warning restore CA1031
            {
                completion.SetException(exception);
            }
        });
        return completion.Task;
    }

    /// <summary>Work already queued still runs; the threads end after it.</summary>
    public void Dispose() => work.CompleteAdding();

    private void Run()
    {
        foreach (var item in work.GetConsumingEnumerable())
        {
            item();
        }
    }
}
