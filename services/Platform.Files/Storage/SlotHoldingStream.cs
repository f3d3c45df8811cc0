namespace Platform.Files.Storage;

/// <summary>
/// Content that takes a slot (<paramref name="acquire"/>, which throws when it refuses one) at its first read and gives
/// it back when disposed. The file
/// result reads the content only to send a body, and before it writes the first byte, so an answer without a body
/// takes no slot and a read refused one can still be answered in full.
/// </summary>
internal sealed class SlotHoldingStream(Stream content, Func<CancellationToken, ValueTask<IDisposable>> acquire) : ContentStream
{
    private IDisposable? slot;

    public override long Length => content.Length;

    public override long Position
    {
        get => content.Position;
        set => content.Position = value;
    }

    public override long Seek(long offset, SeekOrigin origin) => content.Seek(offset, origin);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        slot ??= await acquire(cancellationToken);
        return await content.ReadAsync(buffer, cancellationToken);
    }

    /// <summary>The content first, so its buffer is back in the pool before another download may take one; the slot whatever that throws.</summary>
    public override async ValueTask DisposeAsync()
    {
        try
        {
            await content.DisposeAsync();
        }
        finally
        {
            GiveBack();
            await base.DisposeAsync();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            try
            {
                content.Dispose();
            }
            finally
            {
                GiveBack();
            }
        }
        base.Dispose(disposing);
    }

    private void GiveBack()
    {
        slot?.Dispose();
        slot = null;
    }
}
