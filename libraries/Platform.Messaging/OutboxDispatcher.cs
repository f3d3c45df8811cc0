using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Data;
using Platform.Hosting;
using RabbitMQ.Client;

namespace Platform.Messaging;

/// <summary>
/// Publishes the outbox to <c>platform.events</c>. It drains the outbox in rounds until it is empty, then waits
/// for a commit's notification (or its timer). A round locks a batch of rows (skipping rows another replica has
/// locked), publishes them concurrently with publisher confirms, deletes the confirmed rows and reschedules the
/// others, all in one transaction. A row leaves the outbox only after the broker confirmed it, so an outage of
/// the broker or of PostgreSQL delays events and may duplicate some, but never loses one.
/// </summary>
internal sealed partial class OutboxDispatcher(
    NpgsqlDataSource dataSource,
    PrimaryDatabase database,
    RabbitMqConnection rabbit,
    OutboxMetrics metrics,
    IOptions<OutboxOptions> options,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private const int MaxErrorLength = 1_000;

    private const string LockBatchSql = """
        SELECT id, type, source, correlation_id, occurred_at, data
        FROM outbox
        WHERE next_attempt_at <= clock_timestamp()
        ORDER BY position
        LIMIT $1
        FOR UPDATE SKIP LOCKED
        """;

    private const string DeleteSql = "DELETE FROM outbox WHERE id = ANY($1)";

    /// <summary>The exponent is capped so a row that failed for days cannot overflow the arithmetic.</summary>
    private const string RescheduleSql = """
        UPDATE outbox
        SET attempts = attempts + 1,
            next_attempt_at = clock_timestamp() + least($3, $4 * power(2, least(attempts, 30))) * interval '1 second',
            last_error = failed.error
        FROM unnest($1::uuid[], $2::text[]) AS failed(id, error)
        WHERE outbox.id = failed.id
        """;

    private readonly OutboxOptions settings = options.Value;
    private IChannel? channel;
    private long lastCountTimestamp;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listener = new OutboxListener(database, logger);
        var listening = listener.RunAsync(stoppingToken);
        try
        {
            await DispatchUntilStoppedAsync(listener, stoppingToken);
        }
        finally
        {
            await listening;
            await DropChannelAsync();
        }
    }

    private async Task DispatchUntilStoppedAsync(OutboxListener listener, CancellationToken stoppingToken)
    {
        // The outage's backoff is short, unlike the rows' retries: see FailureStreak.
        var outage = new FailureStreak();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var more = await PublishRoundAsync(stoppingToken);
                if (outage.Ended() is > 0 and var failures)
                {
                    LogResumed(logger, failures);
                }
                await CountPendingIfDueAsync(stoppingToken);
                if (!more)
                {
                    await listener.WaitAsync(settings.IdleWakeInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever failed, the rows are still in the outbox: keep going rather than stop dispatching
                // while the service looks healthy.
                if (outage.Failed())
                {
                    LogUnavailable(logger, e, e.GetType().Name);
                }
                await DropChannelIfBrokenAsync();
                await TryCountPendingAsync(stoppingToken);
                if (!await outage.WaitAsync(stoppingToken))
                {
                    return;
                }
            }
        }
    }

    /// <summary>One round; true when the batch was full and fully confirmed, i.e. more rows are probably waiting.</summary>
    private async Task<bool> PublishRoundAsync(CancellationToken stoppingToken)
    {
        var publisher = await GetChannelAsync(stoppingToken);
        await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
        await using var transaction = await connection.BeginTransactionAsync(stoppingToken);
        var batch = await LockBatchAsync(connection, transaction, stoppingToken);
        if (batch.Count == 0)
        {
            await transaction.CommitAsync(stoppingToken);
            return false;
        }

        var started = Stopwatch.GetTimestamp();
        var errors = await PublishAsync(publisher, batch);
        var confirmed = new List<Guid>(batch.Count);
        var failed = new List<(Guid Id, string Error)>();
        for (var i = 0; i < batch.Count; i++)
        {
            if (errors[i] is { } error)
            {
                failed.Add((batch[i].Id, error));
            }
            else
            {
                confirmed.Add(batch[i].Id);
            }
        }

        // Once published, finish the round even if the host is stopping: abandoning it now would publish the
        // confirmed rows a second time after the restart.
        await DeleteAsync(connection, transaction, confirmed);
        await RescheduleAsync(connection, transaction, failed);
        await transaction.CommitAsync(CancellationToken.None);

        metrics.Published(confirmed.Count);
        LogRound(logger, confirmed.Count, failed.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        if (failed.Count > 0)
        {
            metrics.PublishFailed(failed.Count);
            LogPublishFailed(logger, failed.Count, batch.Count, failed[0].Error);
        }
        return batch.Count == settings.BatchSize && failed.Count == 0;
    }

    private async Task<List<IntegrationEvent>> LockBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(LockBatchSql, connection, transaction) { Parameters = { new() { Value = settings.BatchSize } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var batch = new List<IntegrationEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            batch.Add(new IntegrationEvent(
                reader.GetGuid(0),
                reader.GetString(1),
                reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                JsonSerializer.Deserialize<JsonElement>(reader.GetString(5))));
        }
        return batch;
    }

    /// <summary>Publishes the batch concurrently; per event, null when confirmed, else why not.</summary>
    private async Task<string?[]> PublishAsync(IChannel publisher, List<IntegrationEvent> batch)
    {
        using var timeout = new CancellationTokenSource(settings.PublishTimeout);
        return await Task.WhenAll(batch.Select(integrationEvent => PublishOneAsync(publisher, integrationEvent, timeout.Token)));
    }

    private static async Task<string?> PublishOneAsync(IChannel publisher, IntegrationEvent integrationEvent, CancellationToken cancellationToken)
    {
        var properties = new BasicProperties
        {
            DeliveryMode = DeliveryModes.Persistent,
            MessageId = integrationEvent.Id.ToString(),
            Type = integrationEvent.Type,
            ContentType = "application/json",
            CorrelationId = integrationEvent.CorrelationId,
            Timestamp = new AmqpTimestamp(integrationEvent.OccurredAt.ToUnixTimeSeconds()),
        };
        try
        {
            // Not mandatory: an event no service has bound a queue for yet is delivered to no one, which is not
            // a failure worth retrying forever.
            await publisher.BasicPublishAsync(EventTopology.Exchange, integrationEvent.Type, mandatory: false, properties, IntegrationEventJson.Serialize(integrationEvent), cancellationToken);
            return null;
        }
        catch (OperationCanceledException)
        {
            return "not confirmed by the broker in time";
        }
        catch (Exception e)
        {
            var message = $"{e.GetType().Name}: {e.Message}";
            return message.Length <= MaxErrorLength ? message : message[..MaxErrorLength];
        }
    }

    private static async Task DeleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<Guid> confirmed)
    {
        if (confirmed.Count == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand(DeleteSql, connection, transaction) { Parameters = { new() { Value = confirmed.ToArray() } } };
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private async Task RescheduleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<(Guid Id, string Error)> failed)
    {
        if (failed.Count == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand(RescheduleSql, connection, transaction)
        {
            Parameters =
            {
                new() { Value = failed.Select(f => f.Id).ToArray() },
                new() { Value = failed.Select(f => f.Error).ToArray() },
                new() { Value = settings.MaxRetryDelay.TotalSeconds, NpgsqlDbType = NpgsqlDbType.Double },
                new() { Value = settings.RetryBaseDelay.TotalSeconds, NpgsqlDbType = NpgsqlDbType.Double },
            },
        };
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>
    /// One publishing channel, kept across rounds and replaced once it has failed. Confirmation tracking makes each
    /// publish complete on its confirm (and throw on a nack); the library's own limit on confirms in flight is
    /// off because the batch size already bounds them, and its throttling would add delays to every batch.
    /// </summary>
    private async Task<IChannel> GetChannelAsync(CancellationToken cancellationToken)
    {
        if (channel is { IsOpen: true } open)
        {
            return open;
        }
        await DropChannelAsync();
        var connection = await rabbit.GetAsync(cancellationToken);
        var created = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true, outstandingPublisherConfirmationsRateLimiter: null),
            cancellationToken);
        try
        {
            await EventTopology.DeclareExchangesAsync(created, cancellationToken);
        }
        catch
        {
            await created.DisposeAsync();
            throw;
        }
        channel = created;
        return created;
    }

    private async Task DropChannelIfBrokenAsync()
    {
        if (channel is { IsOpen: false })
        {
            await DropChannelAsync();
        }
    }

    private async Task DropChannelAsync()
    {
        if (channel is null)
        {
            return;
        }
        var dropped = channel;
        channel = null;
        try
        {
            await dropped.DisposeAsync();
        }
        catch (Exception e)
        {
            LogChannelDisposeFailed(logger, e);
        }
    }

    private async Task CountPendingIfDueAsync(CancellationToken cancellationToken)
    {
        if (lastCountTimestamp != 0 && Stopwatch.GetElapsedTime(lastCountTimestamp) < settings.PendingCountInterval)
        {
            return;
        }
        // The oldest by position (indexed), not min(occurred_at): one index probe however long the backlog is.
        await using var command = dataSource.CreateCommand(
            "SELECT count(*), (SELECT occurred_at FROM outbox ORDER BY position LIMIT 1) FROM outbox");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        metrics.SetPending(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
        lastCountTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>During a broker outage the count is what shows the backlog growing; without PostgreSQL it keeps its last value.</summary>
    private async Task TryCountPendingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CountPendingIfDueAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // PostgreSQL is the dependency that is down; the outage is already logged.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Outbox round: {Published} published, {Failed} failed in {ElapsedMs:0.0} ms")]
    private static partial void LogRound(ILogger logger, int published, int failed, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox: {Failed} of {Batch} events were not confirmed and will be retried; first error: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, int failed, int batch, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox dispatcher cannot publish ({Reason}); events stay in the outbox and it keeps retrying")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox dispatcher is publishing again after {Failures} failed attempts")]
    private static partial void LogResumed(ILogger logger, int failures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Disposing a failed publishing channel threw")]
    private static partial void LogChannelDisposeFailed(ILogger logger, Exception exception);
}
