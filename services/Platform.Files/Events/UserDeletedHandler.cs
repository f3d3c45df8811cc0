using Npgsql;
using Platform.Contracts.Events;
using Platform.Files.Data;
using Platform.Messaging;

namespace Platform.Files.Events;

/// <summary>
/// <c>user.deleted</c>: purges every file of the user, content included (chunks cascade), and leaves a tombstone
/// so an upload still in flight for that user cannot commit afterwards. Deleting is idempotent by nature, and the
/// consumer also records the event id, so a redelivery does nothing.
/// </summary>
public sealed class UserDeletedHandler : IIntegrationEventHandler
{
    public async Task HandleAsync(IntegrationEvent integrationEvent, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(integrationEvent);
        if (!integrationEvent.Data.TryGetProperty("userId", out var property) || !property.TryGetGuid(out var userId))
        {
            throw new InvalidOperationException($"Event {integrationEvent.Id} has no userId; it is dead-lettered for a human to look at.");
        }
        await OwnerLock.TakeAsync(connection, transaction, userId, cancellationToken);
        await using var purge = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("INSERT INTO deleted_owners (owner) VALUES ($1) ON CONFLICT DO NOTHING") { Parameters = { new() { Value = userId } } },
                new NpgsqlBatchCommand("DELETE FROM files WHERE owner = $1") { Parameters = { new() { Value = userId } } },
            },
        };
        await purge.ExecuteNonQueryAsync(cancellationToken);
    }
}
