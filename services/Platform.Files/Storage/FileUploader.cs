using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Platform.Contracts.Events;
using Platform.Files.Data;
using Platform.Messaging;

namespace Platform.Files.Storage;

/// <summary>
/// Stores an upload as it arrives: one pooled buffer of <see cref="ReadSize"/> bytes, hashed and COPYed into
/// <c>file_chunks</c> a chunk per row, so memory stays at about one buffer whatever the file's size. Everything
/// (metadata, chunks, the <c>file.uploaded</c> event) is one transaction: an upload that is too large, over quota or
/// cut off rolls back and leaves nothing.
/// </summary>
public sealed class FileUploader(FileDataSources sources, UploadSlots slots, IOptions<FilesOptions> options, TimeProvider clock)
{
    /// <summary>
    /// Bytes per <c>file_chunks</c> row; each file records its own, so this can change without a migration. 8,000
    /// bytes make an 8,048-byte row, which the table's <c>toast_tuple_target</c> keeps in its heap page: one row,
    /// one index entry and one WAL record per chunk. Files stored before 2026-12-06 have 512 KiB chunks, each of
    /// which PostgreSQL moved to ~263 TOAST rows; the primary now spends 14–25 % less CPU per upload
    /// (bench/results/2026-12-06-files-inline-chunks.md).
    /// </summary>
    public const int ChunkSize = 8000;

    /// <summary>Bytes read from the request and hashed at a time: a whole number of chunks, so only the last is short.</summary>
    public const int ReadSize = 64 * ChunkSize;

    private const string CopySql = "COPY file_chunks (file_id, index, data) FROM STDIN (FORMAT BINARY)";

    public async Task<UploadOutcome> StoreAsync(Guid owner, string name, string contentType, Stream content, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var now = clock.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var createdAt = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));

        using var slot = await slots.AcquireAsync(cancellationToken);
        if (!slot.IsAcquired)
        {
            return new UploadOutcome.Busy();
        }
        await using var connection = await sources.Writes.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Usage as committed now bounds the stream early; the check under the owner lock at the end is the one that counts.
        var allowed = Math.Min(limits.MaxFileBytes, Math.Max(0, limits.QuotaBytesPerUser - await UsedBytesAsync(connection, transaction, owner, id, cancellationToken)));
        await InsertPendingAsync(connection, transaction, new StoredFile(id, owner, name, contentType, 0, [], ChunkSize, createdAt), cancellationToken);

        long size;
        byte[] sha256;
        var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            size = 0;
            await using (var importer = await connection.BeginBinaryImportAsync(CopySql, cancellationToken))
            {
                var index = 0;
                while (true)
                {
                    var filled = await FillAsync(content, buffer.AsMemory(0, ReadSize), cancellationToken);
                    if (filled == 0)
                    {
                        break;
                    }
                    size += filled;
                    if (size > allowed)
                    {
                        // Disposing the importer unfinished cancels the COPY; disposing the transaction rolls back the rest.
                        return size > limits.MaxFileBytes ? new UploadOutcome.TooLarge() : new UploadOutcome.OverQuota();
                    }
                    hash.AppendData(buffer, 0, filled);
                    for (var offset = 0; offset < filled; offset += ChunkSize, index++)
                    {
                        await importer.StartRowAsync(cancellationToken);
                        await importer.WriteAsync(id, NpgsqlDbType.Uuid, cancellationToken);
                        await importer.WriteAsync(index, NpgsqlDbType.Integer, cancellationToken);
                        await importer.WriteAsync(new ReadOnlyMemory<byte>(buffer, offset, Math.Min(ChunkSize, filled - offset)), NpgsqlDbType.Bytea, cancellationToken);
                    }
                    if (filled < ReadSize)
                    {
                        break;
                    }
                }
                await importer.CompleteAsync(cancellationToken);
            }
            sha256 = hash.GetHashAndReset();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await OwnerLock.TakeAsync(connection, transaction, owner, cancellationToken);
        if (await OwnerDeletedAsync(connection, transaction, owner, cancellationToken))
        {
            return new UploadOutcome.OwnerDeleted();
        }
        if (await UsedBytesAsync(connection, transaction, owner, id, cancellationToken) + size > limits.QuotaBytesPerUser)
        {
            return new UploadOutcome.OverQuota();
        }
        var file = new StoredFile(id, owner, name, contentType, size, sha256, ChunkSize, createdAt);
        await CompleteAsync(connection, transaction, file, cancellationToken);
        await Outbox.EnqueueAsync(connection, transaction, IntegrationEvent.Create(EventTypes.FileUploaded, FileEvents.Source,
            new { fileId = id, userId = owner, name, size, sha256 = file.Sha256Hex, contentType, createdAt }, FileEvents.CorrelationId()), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await sources.NoteWriteAsync(owner);
        return new UploadOutcome.Stored(file);
    }

    /// <summary>Reads until the buffer is full or the content ends; 0 only at the end.</summary>
    private static async Task<int> FillAsync(Stream content, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await content.ReadAsync(buffer[filled..], cancellationToken);
            if (read == 0)
            {
                break;
            }
            filled += read;
        }
        return filled;
    }

    private static async Task<long> UsedBytesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid owner, Guid except, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce(sum(size), 0)::bigint FROM files WHERE owner = $1 AND id <> $2", connection, transaction);
        command.Parameters.Add(new() { Value = owner });
        command.Parameters.Add(new() { Value = except });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<bool> OwnerDeletedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid owner, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM deleted_owners WHERE owner = $1)", connection, transaction);
        command.Parameters.Add(new() { Value = owner });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The row the chunks refer to; invisible to everyone else until the upload commits.</summary>
    private static async Task InsertPendingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StoredFile file, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO files (id, owner, name, content_type, size, sha256, chunk_size, created_at) VALUES ($1, $2, $3, $4, 0, ''::bytea, $5, $6)",
            connection, transaction);
        command.Parameters.Add(new() { Value = file.Id });
        command.Parameters.Add(new() { Value = file.Owner });
        command.Parameters.Add(new() { Value = file.Name });
        command.Parameters.Add(new() { Value = file.ContentType });
        command.Parameters.Add(new() { Value = file.ChunkSize });
        command.Parameters.Add(new() { Value = file.CreatedAt });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task CompleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StoredFile file, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("UPDATE files SET size = $2, sha256 = $3 WHERE id = $1", connection, transaction);
        command.Parameters.Add(new() { Value = file.Id });
        command.Parameters.Add(new() { Value = file.Size });
        command.Parameters.Add(new() { Value = file.Sha256 });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
