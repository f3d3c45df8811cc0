using Npgsql;
using NpgsqlTypes;
using Platform.Contracts.Events;

namespace Platform.Messaging;

/// <summary>
/// Writes events into the outbox on the caller's connection and transaction, so an event exists exactly when
/// the change it describes was committed. The dispatcher publishes it after the commit.
/// </summary>
public static class Outbox
{
    private const string InsertSql =
        "INSERT INTO outbox (id, type, source, correlation_id, occurred_at, data) VALUES ($1, $2, $3, $4, $5, $6)";

    /// <summary>
    /// Adds <paramref name="integrationEvent"/> to the outbox in <paramref name="transaction"/>; without a
    /// transaction the event is committed on its own at once.
    /// </summary>
    public static async Task EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IntegrationEvent integrationEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(integrationEvent);
        await using var command = new NpgsqlCommand(InsertSql, connection, transaction)
        {
            Parameters =
            {
                new() { Value = integrationEvent.Id },
                new() { Value = integrationEvent.Type },
                new() { Value = integrationEvent.Source },
                new() { Value = (object?)integrationEvent.CorrelationId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
                new() { Value = integrationEvent.OccurredAt },
                new() { Value = integrationEvent.Data.GetRawText(), NpgsqlDbType = NpgsqlDbType.Jsonb },
            },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
