using System.Collections.Concurrent;

namespace Platform.Auth.Passwords;

/// <summary>
/// Dedicated threads for CPU-bound work that takes long (a bcrypt hash: about 130 ms at cost 11). On the thread pool
/// each hash held a worker for its whole length, so a login storm kept as many workers busy as there are hashing
/// slots — on a 2-core pod, all the workers the pool keeps — and the pool had to add threads for anything else to run. Each
/// thread here runs one piece of work at a time; the callers' own concurrency limit bounds the queue. Measured
/// against the pool in bench scenario 8 (reads during a login storm), the two were alike on this machine
/// (bench/results/2026-12-05-hashing-threads-ab.md). They run at normal priority: at Linux's idle priority
/// (SCHED_IDLE, tried) one of three runs, the full one, saw reads' p99 at 33× alone, probably because a starved managed thread
/// holds up its whole process — the garbage collector must stop every thread before it collects.
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
