namespace Platform.Files.Storage;

/// <summary>A content file as the file result reads it, counting the bytes it reads into <c>files_downloaded_bytes</c>.</summary>
internal sealed class MeteredReadStream(FileStream inner, FilesMetrics metrics) : ContentStream
{
    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        if (read > 0)
        {
            metrics.Downloaded(read);
        }
        return read;
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
