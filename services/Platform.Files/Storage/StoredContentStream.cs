using System.Data;
using Npgsql;
using Platform.Files.Data;

namespace Platform.Files.Storage;

/// <summary>
/// A file's content as a seekable, read-only stream over its chunks, so ASP.NET Core's file results can do the
/// conditional and range handling. One chunk is read at a time, from the requested offset to the chunk's end,
/// by its own short query streamed off the connection (sequential access): memory stays at a few kilobytes, and
/// no query or snapshot lives for the whole of a slow download.
/// </summary>
public sealed class StoredContentStream(NpgsqlDataSource dataSource, StoredFile file, FilesMetrics metrics) : Stream
{
    private const string ChunkSql = "SELECT substring(data FROM $3) FROM file_chunks WHERE file_id = $1 AND index = $2";

    private long position;
    private NpgsqlConnection? connection;
    private NpgsqlCommand? command;
    private NpgsqlDataReader? reader;
    private Stream? chunk;
    private long chunkEnd;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => file.Size;

    public override long Position
    {
        get => position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            SeekOrigin.End => file.Size + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        if (target != position)
        {
            CloseChunk();
            position = target;
        }
        return position;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (position >= file.Size || buffer.IsEmpty)
        {
            return 0;
        }
        if (chunk is null)
        {
            await OpenChunkAsync(cancellationToken);
        }
        var read = await chunk!.ReadAsync(buffer[..(int)Math.Min(buffer.Length, chunkEnd - position)], cancellationToken);
        if (read == 0)
        {
            throw new IOException($"File {file.Id} ended at byte {position} of {file.Size}: it was deleted while being read.");
        }
        position += read;
        metrics.Downloaded(read);
        if (position == chunkEnd)
        {
            await CloseChunkAsync();
        }
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Kestrel disallows synchronous I/O, and so does this stream.</summary>
    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Read the content asynchronously.");

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await CloseChunkAsync();
        if (connection is not null)
        {
            await connection.DisposeAsync();
            connection = null;
        }
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            CloseChunk();
            connection?.Dispose();
            connection = null;
        }
        base.Dispose(disposing);
    }

    private async Task OpenChunkAsync(CancellationToken cancellationToken)
    {
        var index = position / file.ChunkSize;
        var offset = position % file.ChunkSize;
        connection ??= await dataSource.OpenConnectionAsync(cancellationToken);
        command = new NpgsqlCommand(ChunkSql, connection)
        {
            Parameters = { new() { Value = file.Id }, new() { Value = (int)index }, new() { Value = (int)offset + 1 } },
        };
        reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess | CommandBehavior.SingleRow, cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new IOException($"Chunk {index} of file {file.Id} is missing: the file was deleted while being read.");
        }
        chunk = reader.GetStream(0);
        chunkEnd = Math.Min(file.Size, (index + 1) * file.ChunkSize);
    }

    private async Task CloseChunkAsync()
    {
        if (chunk is not null)
        {
            await chunk.DisposeAsync();
            chunk = null;
        }
        if (reader is not null)
        {
            await reader.DisposeAsync();
            reader = null;
        }
        if (command is not null)
        {
            await command.DisposeAsync();
            command = null;
        }
    }

    private void CloseChunk()
    {
        chunk?.Dispose();
        chunk = null;
        reader?.Dispose();
        reader = null;
        command?.Dispose();
        command = null;
    }
}
