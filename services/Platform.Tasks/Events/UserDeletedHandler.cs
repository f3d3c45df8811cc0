using Npgsql;
using Platform.Contracts.Events;
using Platform.Messaging;
using Platform.Tasks.Tasks;

namespace Platform.Tasks.Events;

/// <summary>
/// <c>user.deleted</c>: the user's tasks go, in the transaction that records the event, and their cached
/// answers become unreachable (the generation moves on). A redelivery is skipped by the consumer; even run
/// twice, the purge only finds nothing more to delete.
/// </summary>
public sealed class UserDeletedHandler(TaskWrites writes) : IIntegrationEventHandler
{
    public async Task HandleAsync(IntegrationEvent integrationEvent, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(integrationEvent);
        if (!integrationEvent.Data.TryGetProperty("userId", out var userIdProperty) || !userIdProperty.TryGetGuid(out var userId))
        {
            throw new InvalidOperationException($"user.deleted event {integrationEvent.Id} carries no userId.");
        }
        await writes.PurgeUserAsync(connection, transaction, userId, cancellationToken);
    }
}
