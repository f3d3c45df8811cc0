using System.Threading.RateLimiting;
using Platform.Hosting;

namespace Platform.Files.Storage;

/// <summary>
/// Content that takes a slot of <paramref name="gate"/> at its first read and gives it back when disposed. The file
/// result reads the content only to send a body, and before it writes the first byte, so an answer without a body
/// takes no slot and a read refused one can still be answered in full.
/// </summary>
internal sealed class SlotHoldingStream(Stream content, SlotGate gate) : ContentStream
{
    private RateLimitLease? slot;

    public override long Length => content.Length;

    public override long Position
    {
        get => content.Position;
        set => content.Position = value;
    }

    public override long Seek(long offset, SeekOrigin origin) => content.Seek(offset, origin);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (slot is null)
        {
            var lease = await gate.AcquireAsync(cancellationToken);
            if (!lease.IsAcquired)
            {
                lease.Dispose();
                throw new DownloadsBusyException();
            }
            slot = lease;
        }
        return await content.ReadAsync(buffer, cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        await content.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>The content first, so its buffer is back in the pool before another download may take one.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            content.Dispose();
            slot?.Dispose();
            slot = null;
        }
        base.Dispose(disposing);
    }
}
