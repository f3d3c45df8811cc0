namespace Platform.Files.Storage;

/// <summary>
/// A file's content as a HEAD answers it: only its length, from the file's row, for the file result's Content-Length
/// and range handling. The file result reads the content only to send a body, and a HEAD has none, so the content is
/// never opened — no query, no file of the content directory — and, never read, takes no download slot.
/// </summary>
internal sealed class UnreadContent(long length) : ContentStream
{
    private long position;

    public override long Length => length;

    public override long Position
    {
        get => position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin) => position = SeekTarget(offset, origin, position, length);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("A HEAD answer has no body: its content is not read.");
}
