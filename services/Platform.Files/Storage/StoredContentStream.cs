using System.Buffers;
using System.Data;
using Npgsql;
using Platform.Files.Data;

namespace Platform.Files.Storage;

/// <summary>
/// A file's content as a seekable, read-only stream over its chunks, so ASP.NET Core's file results can do the
/// conditional and range handling. Chunks are read a segment at a time (a run of them, from the requested offset) by
/// one short query into a pooled buffer, and the connection goes back to the pool before the client is sent a byte of
/// it: a download holds a connection for the milliseconds a segment takes to read, never for as long as a slow client
/// takes to receive it, so slow downloads cannot use up the pool that deletes, uploads and readiness need. No query or
/// snapshot lives for the whole download either. Memory: one buffer of the segment's size (at most
/// <see cref="SegmentSize"/>, or one chunk of a file stored with larger ones) per download while its segment is sent. The first segment after a seek is small, so a short range reads little more
/// than it asks for; the ones after are larger, so a whole file costs few queries.
/// </summary>
public sealed class StoredContentStream(NpgsqlDataSource dataSource, StoredFile file, FilesMetrics metrics) : ContentStream
{
    /// <summary>Bytes the first segment after a seek covers (at least one chunk).</summary>
    public const int FirstSegmentSize = 64 * 1024;

    /// <summary>Bytes each later segment covers (at least one chunk).</summary>
    public const int SegmentSize = 512 * 1024;

    private const string SegmentSql =
        "SELECT index, substring(data FROM CASE WHEN index = $2 THEN $3 ELSE 1 END) FROM file_chunks WHERE file_id = $1 AND index >= $2 AND index < $4 ORDER BY index";

    private long position;
    private byte[]? segment;
    private long segmentStart;
    private int segmentLength;
    private int segmentsSinceSeek;

    public override long Length => file.Size;

    public override long Position
    {
        get => position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = SeekTarget(offset, origin, position, file.Size);
        if (target != position)
        {
            segmentsSinceSeek = 0;
            position = target;
        }
        return position;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var total = 0;
        while (total < buffer.Length && position < file.Size)
        {
            if (segment is null || position < segmentStart || position >= segmentStart + segmentLength)
            {
                await ReadSegmentAsync(cancellationToken);
            }
            var offset = (int)(position - segmentStart);
            var count = Math.Min(buffer.Length - total, segmentLength - offset);
            segment!.AsSpan(offset, count).CopyTo(buffer.Span[total..]);
            position += count;
            total += count;
            if (position == segmentStart + segmentLength)
            {
                ReturnBuffer(); // sent on: a download between segments holds no buffer
            }
        }
        if (total > 0)
        {
            metrics.Downloaded(total);
        }
        return total;
    }

    public override ValueTask DisposeAsync()
    {
        ReturnBuffer();
        return base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReturnBuffer();
        }
        base.Dispose(disposing);
    }

    /// <summary>
    /// Reads the segment that starts at <see cref="position"/> into the buffer, on a connection held only for the query.
    /// A chunk that is missing or short means the file was deleted while it was read.
    /// </summary>
    private async Task ReadSegmentAsync(CancellationToken cancellationToken)
    {
        var index = position / file.ChunkSize;
        var chunks = Math.Max(1, (segmentsSinceSeek++ == 0 ? FirstSegmentSize : SegmentSize) / file.ChunkSize);
        var end = Math.Min(index + chunks, (file.Size + file.ChunkSize - 1) / file.ChunkSize);
        var length = (int)(Math.Min(file.Size, end * file.ChunkSize) - position);
        // Sized to this segment: a small file or a short range rents little.
        if (segment is not null && segment.Length < length)
        {
            ReturnBuffer();
        }
        segment ??= ArrayPool<byte>.Shared.Rent(length);
        segmentLength = 0;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var command = new NpgsqlCommand(SegmentSql, connection)
        {
            Parameters =
            {
                new() { Value = file.Id },
                new() { Value = (int)index },
                new() { Value = (int)(position % file.ChunkSize) + 1 },
                new() { Value = (int)end },
            },
        })
        await using (var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken))
        {
            var filled = 0;
            for (var expected = index; expected < end; expected++)
            {
                if (!await reader.ReadAsync(cancellationToken) || reader.GetInt32(0) != expected)
                {
                    throw new IOException($"Chunk {expected} of file {file.Id} is missing: the file was deleted while being read.");
                }
                var chunkEnd = (int)(Math.Min(file.Size, (expected + 1) * file.ChunkSize) - position);
                await using var chunk = reader.GetStream(1);
                while (filled < chunkEnd)
                {
                    var read = await chunk.ReadAsync(segment.AsMemory(filled, chunkEnd - filled), cancellationToken);
                    if (read == 0)
                    {
                        throw new IOException($"File {file.Id} ended at byte {position + filled} of {file.Size}: it was deleted while being read.");
                    }
                    filled += read;
                }
            }
            if (filled != length)
            {
                throw new IOException($"File {file.Id} has {filled} bytes where {length} were expected from byte {position}: it changed while being read.");
            }
        }
        segmentStart = position;
        segmentLength = length;
    }

    private void ReturnBuffer()
    {
        if (segment is not null)
        {
            ArrayPool<byte>.Shared.Return(segment);
            segment = null;
        }
    }
}
