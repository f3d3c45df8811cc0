using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Contracts.Events;
using Platform.Hosting;

namespace Platform.Messaging;

/// <summary>
/// Runs a handler at most once per event and consumer: in one transaction it records the event id in
/// <c>processed_events</c> and calls the handler, so either both commit or neither does.
/// </summary>
internal sealed partial class IdempotentEventProcessor(
    string consumer,
    Type handlerType,
    NpgsqlDataSource dataSource,
    IServiceScopeFactory scopes,
    ILogger logger)
{
    private const string RecordSql = "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>True when the handler ran; false when this consumer had already processed the event.</summary>
    public async Task<bool> ProcessAsync(IntegrationEvent integrationEvent, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var record = new NpgsqlCommand(RecordSql, connection, transaction) { Parameters = { new() { Value = consumer }, new() { Value = integrationEvent.Id } } })
        {
            // A concurrent delivery of the same event waits here for the other transaction and then sees the row.
            if (await record.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }
        await using (var scope = scopes.CreateAsyncScope())
        {
            var handler = (IIntegrationEventHandler)scope.ServiceProvider.GetRequiredService(handlerType);
            await handler.HandleAsync(integrationEvent, connection, transaction, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Waits for PostgreSQL instead of failing: an event that cannot even start is not the event's fault, and
    /// counting it as a failed delivery would dead-letter every event of a database outage.
    /// </summary>
    private async Task<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        for (var failures = 0; ; failures++)
        {
            try
            {
                var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                if (failures > 0)
                {
                    LogDatabaseBack(logger, consumer, failures);
                }
                return connection;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                if (failures == 0)
                {
                    LogDatabaseUnavailable(logger, e, consumer);
                }
                await Task.Delay(Backoff.Delay(failures + 1, FirstRetryDelay, MaxRetryDelay), cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer} cannot reach PostgreSQL; it holds its messages and retries")]
    private static partial void LogDatabaseUnavailable(ILogger logger, Exception exception, string consumer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Consumer} reached PostgreSQL again after {Failures} failed attempts")]
    private static partial void LogDatabaseBack(ILogger logger, string consumer, int failures);
}
