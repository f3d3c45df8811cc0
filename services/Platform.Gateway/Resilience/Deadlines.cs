using Microsoft.Extensions.ObjectPool;

namespace Platform.Gateway.Resilience;

/// <summary>
/// Token sources that cancel themselves after a timeout, one per upstream attempt. On the system clock those of
/// requests without a body are reused (otherwise a source and its timer per forwarded read): a returned source goes
/// back to the pool only if it did not fire and its timer and registrations could be reset. A request body may still
/// be streaming with the attempt's token after the answer's headers, so such a source is never handed to another
/// request; it is disposed, as is every source on another clock (tests' fake time).
/// </summary>
internal sealed class Deadlines(TimeProvider time)
{
    private readonly ObjectPool<CancellationTokenSource>? pool = time == TimeProvider.System
        ? new DefaultObjectPoolProvider { MaximumRetained = 1024 }.Create(new ResettablePolicy())
        : null;

    public CancellationTokenSource Start(TimeSpan timeout, bool reusable)
    {
        if (pool is null || !reusable)
        {
            return new CancellationTokenSource(timeout, time);
        }
        var source = pool.Get();
        source.CancelAfter(timeout);
        return source;
    }

    public void Return(CancellationTokenSource source, bool reusable)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (pool is null || !reusable)
        {
            source.Dispose();
            return;
        }
        pool.Return(source);
    }

    private sealed class ResettablePolicy : PooledObjectPolicy<CancellationTokenSource>
    {
        public override CancellationTokenSource Create() => new();

        public override bool Return(CancellationTokenSource obj) => obj.TryReset();
    }
}
