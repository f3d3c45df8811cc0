using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Paging;

namespace Platform.Tasks.Tasks;

public enum WriteOutcome
{
    Done,
    NotFound,
    PreconditionFailed,
}

/// <summary>
/// A user's tasks in PostgreSQL. Reads go through <see cref="ReadRouter"/> (replica or primary) and the cache;
/// writes go to the primary, and in one transaction change the task, bump the user's cache generation and
/// enqueue the event, then mark the user as a recent writer before the caller answers. A cached answer under a
/// generation this process still remembers (<see cref="GenerationMemo"/>) needs no database at all.
/// </summary>
public sealed class TaskStore(NpgsqlDataSource primary, ReadRouter reads, TaskCache cache, GenerationMemo memo)
{
    public const string Source = "tasks";

    private const string Columns = "id, title, description, status, due_at, created_at, updated_at, version";

    private const string GenerationSql = "SELECT generation FROM cache_generations WHERE user_id = $1";

    private const string BumpGenerationSql = """
        INSERT INTO cache_generations (user_id, generation) VALUES ($1, 1)
        ON CONFLICT (user_id) DO UPDATE SET generation = cache_generations.generation + 1
        RETURNING generation
        """;

    /// <summary>One task as the JSON the API answers with: a cache hit is the cached bytes as they are.</summary>
    public async Task<TaskJson?> GetAsync(Guid userId, Guid id, CancellationToken cancellationToken)
    {
        var field = TaskCache.ItemField(id);
        var remembered = await memo.RecallAsync(userId, Subject(userId));
        if (remembered is { } known && TaskJson.FromCached(await cache.GetBytesAsync(userId, known, field)) is { } hit)
        {
            return hit;
        }
        return await reads.ReadAsync(Subject(userId), async connection =>
        {
            // The generation first, on the same server: the data read after it is at least that new.
            var generation = await GenerationAsync(connection, userId, cancellationToken);
            if (generation != remembered && TaskJson.FromCached(await cache.GetBytesAsync(userId, generation, field)) is { } cached)
            {
                return cached;
            }
            await using var command = new NpgsqlCommand($"SELECT {Columns} FROM tasks WHERE id = $1 AND user_id = $2", connection)
            {
                Parameters = { new() { Value = id }, new() { Value = userId } },
            };
            if (await ReadOneAsync(command, cancellationToken) is not { } task)
            {
                return null;
            }
            var json = TaskJson.From(task);
            cache.SetBytes(userId, generation, field, json.Utf8);
            return json;
        }, cancellationToken);
    }

    public async Task<TaskPage> ListAsync(Guid userId, string? status, Guid? after, int limit, CancellationToken cancellationToken)
    {
        var field = TaskCache.ListField(status, after, limit);
        var remembered = await memo.RecallAsync(userId, Subject(userId));
        if (remembered is { } known && await cache.GetAsync<TaskPage>(userId, known, field) is { } hit)
        {
            return hit;
        }
        return await reads.ReadAsync(Subject(userId), async connection =>
        {
            var generation = await GenerationAsync(connection, userId, cancellationToken);
            if (generation != remembered && await cache.GetAsync<TaskPage>(userId, generation, field) is { } cached)
            {
                return cached;
            }
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
            var page = items.Count > limit
                ? new TaskPage(items.GetRange(0, limit), PageCursor.Encode(items[limit - 1].Id))
                : new TaskPage(items, null);
            cache.Set(userId, generation, field, page);
            return page;
        }, cancellationToken);
    }

    public async Task<TaskItem> CreateAsync(Guid userId, TaskFields fields, CancellationToken cancellationToken)
    {
        var task = await WriteAsync(userId, async (connection, transaction) =>
        {
            await using var command = new NpgsqlCommand($"""
                INSERT INTO tasks (id, user_id, title, description, status, due_at, created_at, updated_at, version)
                VALUES ($1, $2, $3, $4, $5, $6, now(), now(), 1)
                RETURNING {Columns}
                """, connection, transaction)
            {
                Parameters =
                {
                    new() { Value = Guid.CreateVersion7() },
                    new() { Value = userId },
                    new() { Value = fields.Title },
                    new() { Value = fields.Description },
                    new() { Value = fields.Status },
                    new() { Value = (object?)fields.DueAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                },
            };
            var created = (await ReadOneAsync(command, cancellationToken))!;
            await Outbox.EnqueueAsync(connection, transaction, Event(EventTypes.TaskCreated, userId, created), cancellationToken);
            return (WriteOutcome.Done, created);
        }, cancellationToken);
        return task.Task!;
    }

    /// <summary>Replaces the task's fields with <paramref name="change"/> of the stored ones, if it exists and the precondition holds.</summary>
    public Task<(WriteOutcome Outcome, TaskItem? Task)> UpdateAsync(Guid userId, Guid id, IfMatch? precondition, Func<TaskFields, TaskFields> change, CancellationToken cancellationToken) =>
        WriteAsync(userId, async (connection, transaction) =>
        {
            var (outcome, current) = await LockAsync(connection, transaction, userId, id, precondition, cancellationToken);
            if (outcome != WriteOutcome.Done)
            {
                return (outcome, null);
            }
            var fields = change(new TaskFields(current!.Title, current.Description, current.Status, current.DueAt));
            await using var command = new NpgsqlCommand($"""
                UPDATE tasks SET title = $3, description = $4, status = $5, due_at = $6, updated_at = now(), version = version + 1
                WHERE id = $1 AND user_id = $2
                RETURNING {Columns}
                """, connection, transaction)
            {
                Parameters =
                {
                    new() { Value = id },
                    new() { Value = userId },
                    new() { Value = fields.Title },
                    new() { Value = fields.Description },
                    new() { Value = fields.Status },
                    new() { Value = (object?)fields.DueAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                },
            };
            var updated = (await ReadOneAsync(command, cancellationToken))!;
            await Outbox.EnqueueAsync(connection, transaction, Event(EventTypes.TaskUpdated, userId, updated), cancellationToken);
            return (WriteOutcome.Done, updated);
        }, cancellationToken);

    public async Task<WriteOutcome> DeleteAsync(Guid userId, Guid id, IfMatch? precondition, CancellationToken cancellationToken) =>
        (await WriteAsync(userId, async (connection, transaction) =>
        {
            var (outcome, current) = await LockAsync(connection, transaction, userId, id, precondition, cancellationToken);
            if (outcome != WriteOutcome.Done)
            {
                return (outcome, null);
            }
            await using var command = new NpgsqlCommand("DELETE FROM tasks WHERE id = $1 AND user_id = $2", connection, transaction)
            {
                Parameters = { new() { Value = id }, new() { Value = userId } },
            };
            await command.ExecuteNonQueryAsync(cancellationToken);
            await Outbox.EnqueueAsync(connection, transaction,
                IntegrationEvent.Create(EventTypes.TaskDeleted, Source, new { id, userId }, CorrelationId()), cancellationToken);
            return (WriteOutcome.Done, current);
        }, cancellationToken)).Outcome;

    /// <summary>Deletes every task of a deleted user, in the consumer's transaction; running it twice changes nothing more.</summary>
    public async Task PurgeUserAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, CancellationToken cancellationToken)
    {
        await using (var command = new NpgsqlCommand("DELETE FROM tasks WHERE user_id = $1", connection, transaction) { Parameters = { new() { Value = userId } } })
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        var generation = await BumpGenerationAsync(connection, transaction, userId, cancellationToken);
        cache.Forget(userId, generation - 1);
        await reads.NoteWriteAsync(Subject(userId));
        memo.Forget(userId);
    }

    private async Task<(WriteOutcome Outcome, TaskItem? Task)> WriteAsync(
        Guid userId, Func<NpgsqlConnection, NpgsqlTransaction, Task<(WriteOutcome, TaskItem?)>> write, CancellationToken cancellationToken)
    {
        (WriteOutcome Outcome, TaskItem? Task) result;
        long generation;
        await using (var connection = await primary.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            result = await write(connection, transaction);
            if (result.Outcome != WriteOutcome.Done)
            {
                return result;
            }
            generation = await BumpGenerationAsync(connection, transaction, userId, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await reads.NoteWriteAsync(Subject(userId));
        memo.Forget(userId);
        cache.Forget(userId, generation - 1);
        return result;
    }

    /// <summary>Takes the row lock, so the precondition checked here still holds when the change commits.</summary>
    private static async Task<(WriteOutcome, TaskItem?)> LockAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, IfMatch? precondition, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM tasks WHERE id = $1 AND user_id = $2 FOR UPDATE", connection, transaction)
        {
            Parameters = { new() { Value = id }, new() { Value = userId } },
        };
        var current = await ReadOneAsync(command, cancellationToken);
        return current is null ? (WriteOutcome.NotFound, null)
            : precondition is not null && !precondition.Matches(current) ? (WriteOutcome.PreconditionFailed, null)
            : (WriteOutcome.Done, current);
    }

    /// <summary>The user's generation on this connection's server, remembered for the reads that follow.</summary>
    private async Task<long> GenerationAsync(NpgsqlConnection connection, Guid userId, CancellationToken cancellationToken)
    {
        var readAt = memo.Now();
        await using var command = new NpgsqlCommand(GenerationSql, connection) { Parameters = { new() { Value = userId } } };
        var generation = await command.ExecuteScalarAsync(cancellationToken) is long found ? found : 0;
        memo.Remember(userId, generation, readAt);
        return generation;
    }

    private static async Task<long> BumpGenerationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(BumpGenerationSql, connection, transaction) { Parameters = { new() { Value = userId } } };
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
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

    private static IntegrationEvent Event(string type, Guid userId, TaskItem task) =>
        IntegrationEvent.Create(type, Source, new { task.Id, userId, task.Title, task.Description, task.Status, task.DueAt, task.CreatedAt, task.UpdatedAt, task.Version }, CorrelationId());

    private static string Subject(Guid userId) => userId.ToString("N");

    private static string? CorrelationId() => Activity.Current?.TraceId.ToString();
}
