using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Platform.Api.Paging;
using Platform.Contracts.Events;

namespace Platform.Tasks.Tasks;

/// <summary>
/// The tasks service's SQL, and only that: each statement on the connection (and transaction) its caller chose.
/// Where a read goes and what the cache answers is <see cref="TaskReads"/>; what a write does around its transaction
/// is <see cref="TaskWrites"/>.
/// </summary>
public static class TaskStore
{
    public const string Source = "tasks";

    private const string Columns = "id, title, description, status, due_at, created_at, updated_at, version";

    /// <summary>The user's cache generation on this connection's server (0 before their first write).</summary>
    public static async Task<long> GenerationAsync(NpgsqlConnection connection, Guid userId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT generation FROM cache_generations WHERE user_id = $1", connection)
        {
            Parameters = { new() { Value = userId } },
        };
        return await command.ExecuteScalarAsync(cancellationToken) is long found ? found : 0;
    }

    /// <summary>
    /// Moves the user's cache generation on and holds the row's lock until the transaction ends, so every write of the
    /// user's tasks and the purge of a deleted user take turns here; says whether the user was deleted.
    /// </summary>
    public static async Task<(long Generation, bool UserDeleted)> BumpGenerationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO cache_generations (user_id, generation) VALUES ($1, 1)
            ON CONFLICT (user_id) DO UPDATE SET generation = cache_generations.generation + 1
            RETURNING generation, deleted
            """, connection, transaction)
        {
            Parameters = { new() { Value = userId } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetBoolean(1));
    }

    /// <summary>The tombstone of a deleted user, on the same row and lock as <see cref="BumpGenerationAsync"/>.</summary>
    public static async Task<long> MarkUserDeletedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO cache_generations (user_id, generation, deleted) VALUES ($1, 1, true)
            ON CONFLICT (user_id) DO UPDATE SET generation = cache_generations.generation + 1, deleted = true
            RETURNING generation
            """, connection, transaction)
        {
            Parameters = { new() { Value = userId } },
        };
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public static async Task<TaskItem?> FindAsync(NpgsqlConnection connection, Guid userId, Guid id, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM tasks WHERE id = $1 AND user_id = $2", connection)
        {
            Parameters = { new() { Value = id }, new() { Value = userId } },
        };
        return await ReadOneAsync(command, cancellationToken);
    }

    public static async Task<TaskPage> PageAsync(NpgsqlConnection connection, Guid userId, string? status, Guid? after, int limit, CancellationToken cancellationToken)
    {
        var sql = $"SELECT {Columns} FROM tasks WHERE user_id = $1"
            + (status is null ? "" : " AND status = $3")
            + (after is null ? "" : " AND id < $4")
            + " ORDER BY id DESC LIMIT $2";
        await using var command = new NpgsqlCommand(sql, connection)
        {
            Parameters =
            {
                new() { Value = userId },
                new() { Value = limit + 1 },
                new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
                new() { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid },
            },
        };
        var items = new List<TaskItem>(limit + 1);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(Read(reader));
            }
        }
        return items.Count > limit
            ? new TaskPage(items.GetRange(0, limit), PageCursor.Encode(items[limit - 1].Id))
            : new TaskPage(items, null);
    }

    public static async Task<TaskItem> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, TaskFields fields, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            INSERT INTO tasks (id, user_id, title, description, status, due_at, created_at, updated_at, version)
            VALUES ($1, $2, $3, $4, $5, $6, now(), now(), 1)
            RETURNING {Columns}
            """, connection, transaction);
        AddRow(command, Guid.CreateVersion7(), userId, fields);
        return (await ReadOneAsync(command, cancellationToken))!;
    }

    /// <summary>The task with its row lock taken, so a precondition checked on it still holds when the change commits.</summary>
    public static async Task<TaskItem?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM tasks WHERE id = $1 AND user_id = $2 FOR UPDATE", connection, transaction)
        {
            Parameters = { new() { Value = id }, new() { Value = userId } },
        };
        return await ReadOneAsync(command, cancellationToken);
    }

    public static async Task<TaskItem> UpdateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, TaskFields fields, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            UPDATE tasks SET title = $3, description = $4, status = $5, due_at = $6, updated_at = now(), version = version + 1
            WHERE id = $1 AND user_id = $2
            RETURNING {Columns}
            """, connection, transaction);
        AddRow(command, id, userId, fields);
        return (await ReadOneAsync(command, cancellationToken))!;
    }

    public static async Task DeleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("DELETE FROM tasks WHERE id = $1 AND user_id = $2", connection, transaction)
        {
            Parameters = { new() { Value = id }, new() { Value = userId } },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task DeleteAllAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("DELETE FROM tasks WHERE user_id = $1", connection, transaction) { Parameters = { new() { Value = userId } } };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static IntegrationEvent Event(string type, Guid userId, TaskItem task) =>
        IntegrationEvent.Create(type, Source, new { task.Id, userId, task.Title, task.Description, task.Status, task.DueAt, task.CreatedAt, task.UpdatedAt, task.Version }, CorrelationId());

    public static IntegrationEvent DeletedEvent(Guid userId, Guid id) =>
        IntegrationEvent.Create(EventTypes.TaskDeleted, Source, new { id, userId }, CorrelationId());

    /// <summary>$1 id, $2 user, $3-$6 the fields: what an insert and an update both write.</summary>
    private static void AddRow(NpgsqlCommand command, Guid id, Guid userId, TaskFields fields)
    {
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = fields.Title });
        command.Parameters.Add(new() { Value = fields.Description });
        command.Parameters.Add(new() { Value = fields.Status });
        command.Parameters.Add(new() { Value = (object?)fields.DueAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
    }

    private static async Task<TaskItem?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private static TaskItem Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
        reader.GetFieldValue<DateTimeOffset>(5),
        reader.GetFieldValue<DateTimeOffset>(6),
        reader.GetInt32(7));

    private static string? CorrelationId() => Activity.Current?.TraceId.ToString();
}
