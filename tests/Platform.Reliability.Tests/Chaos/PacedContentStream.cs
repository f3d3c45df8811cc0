using Platform.Testing;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// Generated content handed out at a bounded pace, like a client on a slow link, so an upload is reliably still
/// streaming when the drill strikes; it counts what it has handed to the HTTP client so far.
/// </summary>
public sealed class PacedContentStream(long length, int bytesPerTick, TimeSpan tick) : Stream
{
    private readonly GeneratedContentStream content = new(length);
    private long sent;

    public long Sent => Interlocked.Read(ref sent);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => Sent; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Delay(tick, cancellationToken);
        var read = content.Read(buffer.Span[..Math.Min(buffer.Length, bytesPerTick)]);
        Interlocked.Add(ref sent, read);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read asynchronously: the pace is a delay.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            content.Dispose();
        }
        base.Dispose(disposing);
    }
}
