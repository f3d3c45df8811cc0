using System.Data;
using Npgsql;
using Platform.Files.Data;

namespace Platform.Files.Storage;

/// <summary>
/// A file's content as a seekable, read-only stream over its chunks, so ASP.NET Core's file results can do the
/// conditional and range handling. Chunks are read a segment at a time (a run of them, from the requested offset),
/// by a short query streamed off the connection (sequential access): memory stays at a few kilobytes, and no query
/// or snapshot lives for the whole of a slow download. The first segment after a seek is small, so a short range
/// reads little more than it asks for; the ones after are larger, so a whole file costs few queries.
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
    private NpgsqlConnection? connection;
    private NpgsqlCommand? command;
    private NpgsqlDataReader? reader;
    private Stream? chunk;
    private long chunkEnd;
    private long segmentEnd;
    private int segmentsSinceSeek;

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
            CloseSegment();
            segmentsSinceSeek = 0;
            position = target;
        }
        return position;
    }

    /// <summary>Fills <paramref name="buffer"/> across chunks (chunks are small; the response is written a buffer at a time).</summary>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var total = 0;
        while (total < buffer.Length && position < file.Size)
        {
            if (chunk is null)
            {
                // The next row of the open segment, or the first of a new one; inline, not a call per chunk (~130,000 per GiB).
                var index = position / file.ChunkSize;
                if (reader is null)
                {
                    await OpenSegmentAsync(index, cancellationToken);
                }
                if (!await reader!.ReadAsync(cancellationToken) || reader.GetInt32(0) != index)
                {
                    throw new IOException($"Chunk {index} of file {file.Id} is missing: the file was deleted while being read.");
                }
                chunk = reader.GetStream(1);
                chunkEnd = Math.Min(file.Size, (index + 1) * file.ChunkSize);
            }
            var read = await chunk!.ReadAsync(buffer.Slice(total, (int)Math.Min(buffer.Length - total, chunkEnd - position)), cancellationToken);
            if (read == 0)
            {
                throw new IOException($"File {file.Id} ended at byte {position} of {file.Size}: it was deleted while being read.");
            }
            position += read;
            total += read;
            if (position == chunkEnd)
            {
                await chunk.DisposeAsync();
                chunk = null;
                if (position == segmentEnd)
                {
                    await CloseSegmentAsync();
                }
            }
        }
        if (total > 0)
        {
            metrics.Downloaded(total);
        }
        return total;
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseSegmentAsync();
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
            CloseSegment();
            connection?.Dispose();
            connection = null;
        }
        base.Dispose(disposing);
    }

    /// <summary>The query for the segment that starts at chunk <paramref name="index"/>, from <see cref="position"/>.</summary>
    private async Task OpenSegmentAsync(long index, CancellationToken cancellationToken)
    {
        var bytes = segmentsSinceSeek++ == 0 ? FirstSegmentSize : SegmentSize;
        var end = Math.Min(index + Math.Max(1, bytes / file.ChunkSize), (file.Size + file.ChunkSize - 1) / file.ChunkSize);
        connection ??= await dataSource.OpenConnectionAsync(cancellationToken);
        command = new NpgsqlCommand(SegmentSql, connection)
        {
            Parameters =
            {
                new() { Value = file.Id },
                new() { Value = (int)index },
                new() { Value = (int)(position % file.ChunkSize) + 1 },
                new() { Value = (int)end },
            },
        };
        reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
        segmentEnd = Math.Min(file.Size, end * file.ChunkSize);
    }

    private async Task CloseSegmentAsync()
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

    private void CloseSegment()
    {
        chunk?.Dispose();
        chunk = null;
        reader?.Dispose();
        reader = null;
        command?.Dispose();
        command = null;
    }
}
