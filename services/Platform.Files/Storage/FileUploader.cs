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
/// Stores an upload as it arrives, through one pooled buffer of <see cref="ReadSize"/> bytes that is hashed and
/// written on, so memory stays at about one buffer whatever the file's size. An upload that is too large, over quota
/// or cut off leaves nothing. Where the bytes go:
/// <list type="bullet">
/// <item>PostgreSQL (the default): COPYed into <c>file_chunks</c> a chunk per row, in one transaction with the
/// metadata and the <c>file.uploaded</c> event.</item>
/// <item>The content directory (<see cref="FilesOptions.ContentDirectory"/>): a lease in <c>content_removals</c>
/// first, then the file, synced to disk, then one short transaction for the metadata and the event that also
/// drops the lease. No connection is held while the client sends, and a crash at any point leaves either a
/// committed file or a lease that <see cref="ContentRemovals"/> redeems.</item>
/// </list>
/// </summary>
public sealed class FileUploader(FileDataSources sources, UploadSlots slots, IOptions<FilesOptions> options, TimeProvider clock, ILogger<FileUploader> logger, ContentDirectory? directory = null)
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

    /// <summary>What the owner's other files take ($1 owner, $2 this upload's id).</summary>
    private const string UsedBytesSql = "SELECT coalesce(sum(size), 0)::bigint FROM files WHERE owner = $1 AND id <> $2";

    /// <summary>Drops an upload's lease ($1 its id): in its commit, or when it is discarded.</summary>
    private const string ReleaseLeaseSql = "DELETE FROM content_removals WHERE file_id = $1 AND kind = 'upload'";

    /// <summary>
    /// Stores <paramref name="content"/> for <paramref name="owner"/>. <paramref name="leastSize"/> is what the request
    /// declares the content has at least (null: nothing, a chunked body): more than the user's remaining quota is
    /// refused when the usage is read, before a byte of the content — a client need not send a file only to learn it
    /// did not fit. The usage is read after the upload slot is taken, as every other query of an upload is, so a refusal
    /// costs no connection beyond the slot's bound. The check while streaming and the one under the owner lock stay:
    /// a chunked body declares nothing, and uploads running at once share the remainder.
    /// </summary>
    public async Task<UploadOutcome> StoreAsync(Guid owner, string name, string contentType, Stream content, long? leastSize, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var file = new StoredFile(Guid.CreateVersion7(now), owner, name, contentType, 0, [], ChunkSize, now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond)));

        using var slot = await slots.AcquireAsync(owner, cancellationToken);
        if (slot == UploadSlot.UserAtLimit)
        {
            return new UploadOutcome.UserAtLimit(slots.PerUser);
        }
        if (!slot.IsAcquired)
        {
            return new UploadOutcome.Busy();
        }
        return directory is null
            ? await StoreInPostgresAsync(file, content, leastSize, cancellationToken)
            : await StoreInDirectoryAsync(directory, file with { ChunkSize = 0, Store = ContentStore.Directory }, content, leastSize, cancellationToken);
    }

    private async Task<UploadOutcome> StoreInPostgresAsync(StoredFile pending, Stream content, long? leastSize, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        await using var connection = await sources.Writes.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Usage as committed now bounds the stream early; the check under the owner lock at the end is the one that counts.
        var allowed = Allowed(limits, await UsedBytesAsync(connection, transaction, pending.Owner, pending.Id, cancellationToken));
        if (leastSize > allowed)
        {
            return CutOff(limits, leastSize.Value);
        }
        await InsertAsync(connection, transaction, pending, cancellationToken);

        Copied copied;
        await using (var importer = await connection.BeginBinaryImportAsync(CopySql, cancellationToken))
        {
            var index = 0;
            copied = await CopyAsync(content, allowed, async (buffer, filled) =>
            {
                for (var offset = 0; offset < filled; offset += ChunkSize, index++)
                {
                    await importer.StartRowAsync(cancellationToken);
                    await importer.WriteAsync(pending.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await importer.WriteAsync(index, NpgsqlDbType.Integer, cancellationToken);
                    await importer.WriteAsync(new ReadOnlyMemory<byte>(buffer, offset, Math.Min(ChunkSize, filled - offset)), NpgsqlDbType.Bytea, cancellationToken);
                }
            }, cancellationToken);
            if (copied.Sha256 is null)
            {
                // Disposing the importer unfinished cancels the COPY; disposing the transaction rolls back the rest.
                return CutOff(limits, copied.Size);
            }
            await importer.CompleteAsync(cancellationToken);
        }

        var file = pending with { Size = copied.Size, Sha256 = copied.Sha256 };
        if (await CheckOwnerAsync(connection, transaction, file, limits, cancellationToken) is { } refused)
        {
            return refused;
        }
        await using (var complete = new NpgsqlCommand("UPDATE files SET size = $2, sha256 = $3 WHERE id = $1", connection, transaction))
        {
            complete.Parameters.Add(new() { Value = file.Id });
            complete.Parameters.Add(new() { Value = file.Size });
            complete.Parameters.Add(new() { Value = file.Sha256 });
            await complete.ExecuteNonQueryAsync(cancellationToken);
        }
        await EnqueueUploadedAsync(connection, transaction, file, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await sources.NoteWriteAsync(file.Owner);
        return new UploadOutcome.Stored(file);
    }

    private async Task<UploadOutcome> StoreInDirectoryAsync(ContentDirectory store, StoredFile pending, Stream content, long? leastSize, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        long used;
        await using (var connection = await sources.Writes.OpenConnectionAsync(cancellationToken))
        {
            used = await LeaseAsync(connection, pending, cancellationToken);
        }
        // Set once the commit is under way: from then on whether it happened is unknown until it answers, and a
        // commit that failed leaves the lease to ContentRemovals.
        var committing = false;
        try
        {
            var allowed = Allowed(limits, used);
            if (leastSize > allowed)
            {
                return CutOff(limits, leastSize.Value);
            }
            Copied copied;
            // The store's I/O failures are wrapped where they happen (ContentStoreException): the request body's are the client's.
            await using (var written = ContentStoreException.Wrap(() => store.Create(pending.Id)))
            {
                copied = await CopyAsync(content, allowed, (buffer, filled) =>
                {
                    // Synchronous: the page cache takes it in microseconds, and an asynchronous file write on Linux
                    // is this same call on another pool thread.
                    ContentStoreException.Wrap(() => written.Write(buffer, 0, filled));
                    return Task.CompletedTask;
                }, cancellationToken);
                if (copied.Sha256 is null)
                {
                    return CutOff(limits, copied.Size);
                }
                ContentStoreException.Wrap(() => store.Seal(written));
            }

            var file = pending with { Size = copied.Size, Sha256 = copied.Sha256 };
            await using var connection = await sources.Writes.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (await CheckOwnerAsync(connection, transaction, file, limits, cancellationToken) is { } refused)
            {
                return refused;
            }
            await InsertAsync(connection, transaction, file, cancellationToken);
            await using (var release = new NpgsqlCommand(ReleaseLeaseSql, connection, transaction))
            {
                release.Parameters.Add(new() { Value = file.Id });
                if (await release.ExecuteNonQueryAsync(cancellationToken) != 1)
                {
                    throw new InvalidOperationException($"The lease of upload {file.Id} was redeemed while it was stored: its content may be gone.");
                }
            }
            await EnqueueUploadedAsync(connection, transaction, file, cancellationToken);
            committing = true;
            await transaction.CommitAsync(cancellationToken);
            await sources.NoteWriteAsync(file.Owner);
            return new UploadOutcome.Stored(file);
        }
        finally
        {
            if (!committing)
            {
                await DiscardAsync(store, pending.Id);
            }
        }
    }

    /// <summary>
    /// Takes the upload's lease (its content is removed after <see cref="ContentRemovals.UploadLease"/> unless the
    /// upload commits) and returns the owner's committed usage, in one round trip.
    /// </summary>
    private async Task<long> LeaseAsync(NpgsqlConnection connection, StoredFile pending, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("INSERT INTO content_removals (file_id, kind, due_at) VALUES ($1, 'upload', $2)")
                {
                    Parameters = { new() { Value = pending.Id }, new() { Value = clock.GetUtcNow() + ContentRemovals.UploadLease } },
                },
                new NpgsqlBatchCommand(UsedBytesSql) { Parameters = { new() { Value = pending.Owner }, new() { Value = pending.Id } } },
            },
        };
        return (long)(await batch.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>An upload that did not commit: its file and its lease go now rather than when the lease is due.</summary>
    private async Task DiscardAsync(ContentDirectory store, Guid id)
    {
        try
        {
            store.Delete(id);
            await using var connection = await sources.Writes.OpenConnectionAsync(CancellationToken.None);
            await using var release = new NpgsqlCommand(ReleaseLeaseSql, connection);
            release.Parameters.Add(new() { Value = id });
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NpgsqlException or TimeoutException)
        {
            logger.LogWarning(e, "Upload {FileId} did not commit and its content could not be discarded now; its lease removes it within {Lease}", id, ContentRemovals.UploadLease);
        }
    }

    private static long Allowed(FilesOptions limits, long used) => Math.Min(limits.MaxFileBytes, Math.Max(0, limits.QuotaBytesPerUser - used));

    private static UploadOutcome CutOff(FilesOptions limits, long size) =>
        size > limits.MaxFileBytes ? new UploadOutcome.TooLarge() : new UploadOutcome.OverQuota();

    /// <summary>Bytes read so far, and the content's SHA-256 when all of it was within the bound (null: cut off there).</summary>
    private readonly record struct Copied(long Size, byte[]? Sha256);

    /// <summary>Reads the content a buffer at a time, hashing and handing each on, until it ends or passes <paramref name="allowed"/>.</summary>
    private static async Task<Copied> CopyAsync(Stream content, long allowed, Func<byte[], int, Task> write, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
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
                    return new Copied(size, null);
                }
                hash.AppendData(buffer, 0, filled);
                await write(buffer, filled);
                if (filled < ReadSize)
                {
                    break;
                }
            }
            return new Copied(size, hash.GetHashAndReset());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Under the owner lock, the checks that count: the account still exists and the file fits the quota.</summary>
    private static async Task<UploadOutcome?> CheckOwnerAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StoredFile file, FilesOptions limits, CancellationToken cancellationToken)
    {
        await OwnerLock.TakeAsync(connection, transaction, file.Owner, cancellationToken);
        if (await OwnerDeletedAsync(connection, transaction, file.Owner, cancellationToken))
        {
            return new UploadOutcome.OwnerDeleted();
        }
        if (await UsedBytesAsync(connection, transaction, file.Owner, file.Id, cancellationToken) + file.Size > limits.QuotaBytesPerUser)
        {
            return new UploadOutcome.OverQuota();
        }
        return null;
    }

    private static Task EnqueueUploadedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StoredFile file, CancellationToken cancellationToken) =>
        Outbox.EnqueueAsync(connection, transaction, IntegrationEvent.Create(EventTypes.FileUploaded, FileEvents.Source,
            new { fileId = file.Id, userId = file.Owner, name = file.Name, size = file.Size, sha256 = file.Sha256Hex, contentType = file.ContentType, createdAt = file.CreatedAt },
            FileEvents.CorrelationId()), cancellationToken);

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
        await using var command = new NpgsqlCommand(UsedBytesSql, connection, transaction);
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

    /// <summary>The file's row: for chunks, the one they refer to, invisible to everyone else until the upload commits.</summary>
    private static async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StoredFile file, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO files (id, owner, name, content_type, size, sha256, chunk_size, created_at, content_store) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            connection, transaction);
        command.Parameters.Add(new() { Value = file.Id });
        command.Parameters.Add(new() { Value = file.Owner });
        command.Parameters.Add(new() { Value = file.Name });
        command.Parameters.Add(new() { Value = file.ContentType });
        command.Parameters.Add(new() { Value = file.Size });
        command.Parameters.Add(new() { Value = file.Sha256 });
        command.Parameters.Add(new() { Value = file.ChunkSize });
        command.Parameters.Add(new() { Value = file.CreatedAt });
        command.Parameters.Add(new() { Value = file.Store == ContentStore.Directory ? "directory" : "postgres" });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
