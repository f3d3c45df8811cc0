using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Platform.Auth.Passwords;

/// <summary>How the scheduler treats the threads that compute password hashes.</summary>
public enum HashPriority
{
    /// <summary>
    /// Linux's SCHED_IDLE: any ordinary thread that wakes on the core preempts a hash at once. A hash still gets the
    /// CPU its process (or container) is entitled to; it only stops standing in the way of short requests.
    /// </summary>
    Idle,

    /// <summary>Like every other thread: a request that wakes behind a running hash waits for the scheduler's slice.</summary>
    Normal,
}

/// <summary>
/// Dedicated threads for CPU-bound work that takes long enough to hurt everyone else's latency (a bcrypt hash: about
/// 130 ms). On the thread pool such work blocks workers the pool then replaces, and on a shared core a short request
/// that wakes behind it waits a whole scheduler slice or more: `make bench` scenario 8 measured cached reads' p99 at
/// 60× their p99 alone during a login storm on two cores. Here each thread runs one piece of work at a time, at
/// <see cref="HashPriority.Idle"/> unless told otherwise; the callers' own concurrency limit bounds the queue.
/// </summary>
public sealed class HashingThreads : IDisposable
{
    private const int SchedIdle = 5; // linux/sched.h

    private readonly BlockingCollection<Action> work = new(new ConcurrentQueue<Action>());
    private readonly Thread[] threads;

    public HashingThreads(int count, HashPriority priority)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Priority = priority;
        var started = new CountdownEvent(count);
        string? refused = null;
        threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            threads[i] = new Thread(() =>
            {
                if (priority == HashPriority.Idle && !TryRunAtIdlePriority(out var error))
                {
                    refused = error;
                }
                started.Signal();
                Run();
            })
            { IsBackground = true, Name = "password hash" };
            threads[i].Start();
        }
        started.Wait();
        started.Dispose();
        PriorityRefusal = refused;
    }

    /// <summary>The priority asked for.</summary>
    public HashPriority Priority { get; }

    /// <summary>Why the threads run at normal priority although <see cref="HashPriority.Idle"/> was asked for; null if they do not.</summary>
    public string? PriorityRefusal { get; }

    public int Count => threads.Length;

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

    /// <summary>The calling thread's scheduling policy as Linux reports it (0 ordinary, 5 idle); -1 elsewhere.</summary>
    public static int CurrentThreadPolicy() => OperatingSystem.IsLinux() ? sched_getscheduler(0) : -1;

    private void Run()
    {
        foreach (var item in work.GetConsumingEnumerable())
        {
            item();
        }
    }

    private static bool TryRunAtIdlePriority(out string? error)
    {
        error = null;
        if (!OperatingSystem.IsLinux())
        {
            error = "SCHED_IDLE exists on Linux only";
            return false;
        }
        var parameter = 0; // struct sched_param { int sched_priority; }, which must be 0 for SCHED_IDLE
        if (sched_setscheduler(0, SchedIdle, ref parameter) == 0)
        {
            return true;
        }
        error = $"sched_setscheduler(SCHED_IDLE) failed with errno {Marshal.GetLastPInvokeError()}";
        return false;
    }

    // pid 0 is the calling thread: Linux schedules threads, not processes.
    [DllImport("libc", SetLastError = true)]
    private static extern int sched_setscheduler(int pid, int policy, ref int parameter);

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_getscheduler(int pid);
}
