using Microsoft.Extensions.Options;
using Platform.Hosting;

namespace Platform.Files.Storage;

/// <summary>
/// How many downloads this instance sends at once. A download gives its connection back between segments
/// (<see cref="StoredContentStream"/>), so the pool no longer bounds them, yet each one being sent holds a segment's
/// buffer, and a client that stops reading holds it for as long as Kestrel's minimum data rate allows: without a bound,
/// enough of them take the pod's memory. At most <see cref="FilesOptions.MaxConcurrentDownloads"/> are sent at once; one
/// more waits up to <see cref="FilesOptions.MaxDownloadWaitSeconds"/> for a slot, holding a socket and nothing else,
/// then is refused. The slot is taken by the content's first read, so answers without a body (304, 412, 416) take none.
/// </summary>
public sealed class DownloadSlots : IDisposable
{
    /// <summary>Waiting downloads hold a socket and nothing else; the wait's time bound, not this, is what limits them.</summary>
    private const int QueueLimit = 1024;

    private readonly SlotGate gate;

    public DownloadSlots(IOptions<FilesOptions> options, FilesMetrics metrics)
    {
        gate = new SlotGate(options.Value.MaxConcurrentDownloads, QueueLimit, TimeSpan.FromSeconds(options.Value.MaxDownloadWaitSeconds));
        metrics.DeclareDownloadRefusals();
    }

    /// <summary>
    /// The content, taking a slot when it is first read and giving it back when it is disposed: after its last byte,
    /// or when the client went away. A read that got no slot throws <see cref="DownloadsBusyException"/>.
    /// </summary>
    public Stream Hold(Stream content) => new SlotHoldingStream(content, gate);

    public void Dispose() => gate.Dispose();
}

/// <summary>
/// Every download slot stayed taken for the whole wait. Thrown by the content's first read, before the answer has
/// started, so the download can still be answered 503.
/// </summary>
public sealed class DownloadsBusyException() : Exception("Every download slot of this instance stayed taken.");
