using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Platform.Hosting;

namespace Platform.Files.Storage;

/// <summary>
/// How many downloads this instance sends at once. A download gives its connection back between segments
/// (<see cref="StoredContentStream"/>), so the pool no longer bounds them, yet each one being sent holds a segment's
/// buffer, and a client that stops reading holds it for as long as Kestrel's minimum data rate allows: without a bound,
/// enough of them take the pod's memory. At most <see cref="FilesOptions.MaxConcurrentDownloads"/> are sent at once; one
/// more waits up to <see cref="FilesOptions.MaxDownloadWaitSeconds"/> for a slot, holding a socket and nothing else,
/// then is refused. A user has at most <see cref="FilesOptions.MaxConcurrentDownloadsPerUser"/> of them being sent or
/// waiting, so no one user's slow readers hold every slot. The slot is taken by the content's first read, so answers
/// without a body (304, 412, 416, and any answer to a HEAD) take none.
/// </summary>
public sealed class DownloadSlots : IDisposable
{
    /// <summary>Waiting downloads hold a socket and nothing else; the wait's time bound, not this, is what limits them.</summary>
    private const int QueueLimit = 1024;

    private readonly SlotGate gate;
    private readonly UserShares shares;

    public DownloadSlots(IOptions<FilesOptions> options, FilesMetrics metrics)
    {
        var settings = options.Value;
        gate = new SlotGate(settings.MaxConcurrentDownloads, QueueLimit, TimeSpan.FromSeconds(settings.MaxDownloadWaitSeconds));
        shares = new UserShares(settings.MaxConcurrentDownloadsPerUser ?? Math.Min(settings.MaxConcurrentDownloads, Math.Max(2, settings.MaxConcurrentDownloads / 4)));
        metrics.DeclareDownloadRefusals();
    }

    /// <summary>Downloads one user may have being sent or waiting on this instance.</summary>
    public int PerUser => shares.PerUser;

    /// <summary>
    /// <paramref name="owner"/>'s content, taking a slot when it is first read and giving it back when it is disposed:
    /// after its last byte, or when the client went away. A read that got no slot throws <see cref="DownloadRefusedException"/>.
    /// </summary>
    public Stream Hold(Stream content, Guid owner) => new SlotHoldingStream(content, cancellationToken => AcquireAsync(owner, cancellationToken));

    public void Dispose() => gate.Dispose();

    private async ValueTask<IDisposable> AcquireAsync(Guid owner, CancellationToken cancellationToken)
    {
        if (!shares.TryTake(owner))
        {
            throw new DownloadRefusedException(userAtLimit: true);
        }
        RateLimitLease lease;
        try
        {
            lease = await gate.AcquireAsync(cancellationToken);
        }
        catch
        {
            shares.Give(owner);
            throw;
        }
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            shares.Give(owner);
            throw new DownloadRefusedException(userAtLimit: false);
        }
        return new Place(lease, () => shares.Give(owner));
    }

    private sealed class Place(RateLimitLease lease, Action giveBack) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                lease.Dispose();
                giveBack();
            }
        }
    }
}

/// <summary>
/// No download slot for this one: the user already has their share being sent or waiting, or every slot stayed taken
/// for the whole wait. Thrown by the content's first read, before the answer has started, so it can still be answered.
/// </summary>
public sealed class DownloadRefusedException(bool userAtLimit)
    : Exception(userAtLimit ? "The user already has as many downloads as one user may on this instance." : "Every download slot of this instance stayed taken.")
{
    public bool UserAtLimit { get; } = userAtLimit;
}
