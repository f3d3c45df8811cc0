using Npgsql;
using Platform.Contracts.Events;
using Platform.Messaging;

namespace Platform.Files.Data;

/// <summary>The metadata queries: one user's files only, every query filtered by owner.</summary>
public sealed class FileCatalog(FileDataSources sources)
{
    private const string Columns = "id, owner, name, content_type, size, sha256, chunk_size, created_at, content_store";

    public Task<StoredFile?> FindAsync(Guid owner, Guid id, CancellationToken cancellationToken) =>
        sources.ReadAsync(owner, async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT {Columns} FROM files WHERE id = $1 AND owner = $2", connection);
            command.Parameters.Add(new() { Value = id });
            command.Parameters.Add(new() { Value = owner });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }, cancellationToken);

    /// <summary>Newest first; <paramref name="after"/> is the last id of the previous page (keyset pagination).</summary>
    public Task<IReadOnlyList<StoredFile>> ListAsync(Guid owner, Guid? after, int limit, CancellationToken cancellationToken) =>
        sources.ReadAsync<IReadOnlyList<StoredFile>>(owner, async connection =>
        {
            await using var command = new NpgsqlCommand(
                $"SELECT {Columns} FROM files WHERE owner = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3", connection);
            command.Parameters.Add(new() { Value = owner });
            command.Parameters.Add(new() { Value = after.HasValue ? after.Value : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
            command.Parameters.Add(new() { Value = limit });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var files = new List<StoredFile>(limit);
            while (await reader.ReadAsync(cancellationToken))
            {
                files.Add(Read(reader));
            }
            return files;
        }, cancellationToken);

    /// <summary>
    /// Deletes the file and its content, with its <c>file.deleted</c> event in the same transaction. Content in the
    /// content directory is queued for removal by the table's trigger and unlinked by <c>ContentRemovals</c>.
    /// </summary>
    public async Task<bool> DeleteAsync(Guid owner, Guid id, string? correlationId, CancellationToken cancellationToken)
    {
        await using var connection = await sources.Writes.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var delete = new NpgsqlCommand("DELETE FROM files WHERE id = $1 AND owner = $2", connection, transaction))
        {
            delete.Parameters.Add(new() { Value = id });
            delete.Parameters.Add(new() { Value = owner });
            if (await delete.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }
        await Outbox.EnqueueAsync(connection, transaction,
            IntegrationEvent.Create(EventTypes.FileDeleted, FileEvents.Source, new { fileId = id, userId = owner }, correlationId), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await sources.NoteWriteAsync(owner);
        return true;
    }

    private static StoredFile Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4),
        reader.GetFieldValue<byte[]>(5), reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7),
        reader.GetString(8) == "directory" ? ContentStore.Directory : ContentStore.Postgres);
}
