using Platform.Hosting;

namespace Platform.Libraries.Tests;

public sealed class SlotGateTests
{
    [Fact]
    public async Task A_free_slot_is_had_at_once_and_freed_by_disposing_its_lease()
    {
        using var gate = new SlotGate(1, 4, TimeSpan.FromSeconds(30));

        using (var first = await gate.AcquireAsync(CancellationToken.None))
        {
            Assert.True(first.IsAcquired);
        }
        var again = gate.AcquireAsync(CancellationToken.None);

        Assert.True(again.IsCompleted, "the freed slot should be had without waiting");
        using var lease = await again;
        Assert.True(lease.IsAcquired);
    }

    [Fact]
    public async Task A_caller_waiting_for_a_taken_slot_gets_it_when_it_is_freed_within_the_wait()
    {
        using var gate = new SlotGate(1, 4, TimeSpan.FromSeconds(30));
        var holder = await gate.AcquireAsync(CancellationToken.None);

        var waiting = gate.AcquireAsync(CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        holder.Dispose();

        using var lease = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(lease.IsAcquired);
    }

    [Fact]
    public async Task A_caller_is_refused_when_the_wait_runs_out_and_at_once_when_the_queue_is_full()
    {
        using var gate = new SlotGate(1, 1, TimeSpan.FromSeconds(1));
        using var holder = await gate.AcquireAsync(CancellationToken.None);

        var queued = gate.AcquireAsync(CancellationToken.None).AsTask();
        var started = System.Diagnostics.Stopwatch.StartNew();
        using (var beyondQueue = await gate.AcquireAsync(CancellationToken.None))
        {
            Assert.False(beyondQueue.IsAcquired);
            Assert.True(started.Elapsed < TimeSpan.FromMilliseconds(900), $"a full queue should refuse at once, took {started.Elapsed}");
        }
        using var timedOut = await queued.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(timedOut.IsAcquired);
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(900), $"refused after {started.Elapsed}, before its wait ran out");
    }

    [Fact]
    public async Task A_caller_that_gives_up_gets_its_cancellation_not_a_refusal()
    {
        using var gate = new SlotGate(1, 4, TimeSpan.FromSeconds(30));
        using var holder = await gate.AcquireAsync(CancellationToken.None);
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await gate.AcquireAsync(caller.Token));
    }
}
