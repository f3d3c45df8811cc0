using Npgsql;
using Platform.Contracts.Events;
using Platform.Data;
using Platform.Messaging;

namespace Platform.Tasks.Tasks;

public enum WriteOutcome
{
    Done,
    NotFound,
    PreconditionFailed,

    /// <summary>The user was deleted (a token issued before the deletion, or a write that raced the purge).</summary>
    UserDeleted,
}

/// <summary>
/// The write path: on the primary, one transaction bumps the user's cache generation first — its row lock orders the
/// user's writes and the purge of a deleted user, whose tombstone it carries — then changes the task and enqueues the
/// event; after the commit and before the caller answers, the user is marked as a recent writer (so their next reads,
/// on any instance, go to the primary) and this process forgets their generation and drops the old one's answers.
/// </summary>
public sealed class TaskWrites(NpgsqlDataSource primary, ReadRouter router, TaskCache cache, GenerationMemo memo)
{
    /// <summary>The created task, or null when the user was deleted.</summary>
    public async Task<TaskItem?> CreateAsync(Guid userId, TaskFields fields, CancellationToken cancellationToken) =>
        (await WriteAsync(userId, async (connection, transaction) =>
        {
            var created = await TaskStore.InsertAsync(connection, transaction, userId, fields, cancellationToken);
            await Outbox.EnqueueAsync(connection, transaction, TaskStore.Event(EventTypes.TaskCreated, userId, created), cancellationToken);
            return (WriteOutcome.Done, created);
        }, cancellationToken)).Task;

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
            var updated = await TaskStore.UpdateAsync(connection, transaction, userId, id, fields, cancellationToken);
            await Outbox.EnqueueAsync(connection, transaction, TaskStore.Event(EventTypes.TaskUpdated, userId, updated), cancellationToken);
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
            await TaskStore.DeleteAsync(connection, transaction, userId, id, cancellationToken);
            await Outbox.EnqueueAsync(connection, transaction, TaskStore.DeletedEvent(userId, id), cancellationToken);
            return (WriteOutcome.Done, current);
        }, cancellationToken)).Outcome;

    /// <summary>
    /// Deletes every task of a deleted user, in the consumer's transaction, after leaving the tombstone on the row the
    /// user's writes lock first: a write that held it committed before, and its task is deleted here (each statement
    /// sees what committed before it); one that gets it later finds the tombstone and writes nothing. Running it
    /// twice changes nothing more.
    /// </summary>
    public async Task PurgeUserAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, CancellationToken cancellationToken)
    {
        var generation = await TaskStore.MarkUserDeletedAsync(connection, transaction, userId, cancellationToken);
        await TaskStore.DeleteAllAsync(connection, transaction, userId, cancellationToken);
        await AfterWriteAsync(userId, generation);
    }

    private async Task<(WriteOutcome Outcome, TaskItem? Task)> WriteAsync(
        Guid userId, Func<NpgsqlConnection, NpgsqlTransaction, Task<(WriteOutcome, TaskItem?)>> write, CancellationToken cancellationToken)
    {
        (WriteOutcome Outcome, TaskItem? Task) result;
        long generation;
        await using (var connection = await primary.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            (generation, var userDeleted) = await TaskStore.BumpGenerationAsync(connection, transaction, userId, cancellationToken);
            if (userDeleted)
            {
                return (WriteOutcome.UserDeleted, null);
            }
            result = await write(connection, transaction);
            if (result.Outcome != WriteOutcome.Done)
            {
                return result;
            }
            await transaction.CommitAsync(cancellationToken);
        }
        await AfterWriteAsync(userId, generation);
        return result;
    }

    private async Task AfterWriteAsync(Guid userId, long generation)
    {
        await router.NoteWriteAsync(TaskReads.Subject(userId));
        memo.Forget(userId);
        cache.Forget(userId, generation - 1);
    }

    private static async Task<(WriteOutcome, TaskItem?)> LockAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, IfMatch? precondition, CancellationToken cancellationToken)
    {
        var current = await TaskStore.LockAsync(connection, transaction, userId, id, cancellationToken);
        return current is null ? (WriteOutcome.NotFound, null)
            : precondition is not null && !precondition.Matches(current) ? (WriteOutcome.PreconditionFailed, null)
            : (WriteOutcome.Done, current);
    }
}
