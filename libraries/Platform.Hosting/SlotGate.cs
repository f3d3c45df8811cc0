using System.Threading.RateLimiting;

namespace Platform.Hosting;

/// <summary>
/// A fixed number of slots for work that holds something scarce — a core for a password hash, a database connection
/// for an upload — with a queue bounded in length and in time: a caller gets a slot at once when one is free, else
/// after at most <c>maxWait</c> in the queue, else a lease that is not acquired, to answer 503 with Retry-After. The
/// time bound is the one that matters: how long a queue of a given length takes depends on what the pod really gets.
/// </summary>
public sealed class SlotGate : IDisposable
{
    private readonly ConcurrencyLimiter gate;
    private readonly TimeSpan maxWait;

    public SlotGate(int slots, int queueLimit, TimeSpan maxWait)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queueLimit);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWait, TimeSpan.Zero);
        Slots = slots;
        this.maxWait = maxWait;
        gate = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = slots,
            QueueLimit = queueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public int Slots { get; }

    /// <summary>
    /// A slot, to dispose when the work is done; not acquired when the queue was full or the wait ran out. The
    /// caller's own cancellation (its client gone) throws, as it would anywhere else.
    /// </summary>
    public async ValueTask<RateLimitLease> AcquireAsync(CancellationToken cancellationToken)
    {
        var free = gate.AttemptAcquire(1);
        if (free.IsAcquired)
        {
            return free;
        }
        free.Dispose();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(maxWait);
        try
        {
            return await gate.AcquireAsync(1, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Refused.Lease;
        }
    }

    public void Dispose() => gate.Dispose();

    /// <summary>The lease of a caller that waited its longest for a slot.</summary>
    private sealed class Refused : RateLimitLease
    {
        public static readonly Refused Lease = new();

        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
