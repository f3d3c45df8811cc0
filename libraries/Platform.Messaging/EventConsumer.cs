using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Hosting;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Platform.Messaging;

/// <summary>What one <c>AddPlatformEventConsumer</c> call asked for.</summary>
internal sealed record EventConsumerRegistration(string Queue, IReadOnlyList<string> RoutingKeys, EventConsumerOptions Options);

/// <summary>
/// Consumes a service's queue with manual acknowledgements. A message is acknowledged only after its handling
/// committed; a handler failure is retried by requeueing until the broker's delivery count reaches the limit,
/// then dead-lettered, as is a message that is not an event envelope at all.
/// </summary>
internal sealed partial class EventConsumer(
    EventConsumerRegistration registration,
    IdempotentEventProcessor processor,
    RabbitMqConnection rabbit,
    EventConsumerMetrics metrics,
    ILogger<EventConsumer> logger) : BackgroundService
{
    /// <summary>Set by quorum queues on every redelivery: how many times the message was returned before.</summary>
    private const string DeliveryCountHeader = "x-delivery-count";

    private static readonly TimeSpan FirstRequeueDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxRequeueDelay = TimeSpan.FromSeconds(5);

    private string Queue => registration.Queue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        metrics.Consuming(Queue);
        var outage = new FailureStreak();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var connection = await rabbit.GetAsync(stoppingToken);
                var (channel, consumer) = await StartConsumingAsync(connection, stoppingToken);
                await using (channel)
                {
                    if (outage.Ended() is > 0 and var failures)
                    {
                        LogConsumingAgain(logger, Queue, failures);
                    }
                    await ConsumerWatch.WaitUntilConsumingStopsAsync(connection, channel, consumer, stoppingToken);
                    LogConsumingStopped(logger, Queue, channel.CloseReason?.ToString() ?? "the broker cancelled the consumer");
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (outage.Failed())
                {
                    LogCannotConsume(logger, e, Queue);
                }
                if (!await outage.WaitAsync(stoppingToken))
                {
                    return;
                }
            }
        }
    }

    private async Task<(IChannel Channel, AsyncEventingBasicConsumer Consumer)> StartConsumingAsync(IConnection connection, CancellationToken stoppingToken)
    {
        var options = registration.Options;
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false, consumerDispatchConcurrency: options.Concurrency), stoppingToken);
        try
        {
            await channel.BasicQosAsync(prefetchSize: 0, prefetchCount: options.Prefetch, global: false, stoppingToken);
            await EventTopology.DeclareConsumerQueueAsync(channel, Queue, registration.RoutingKeys, stoppingToken);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) => OnDeliveryAsync(channel, delivery, stoppingToken);
            await channel.BasicConsumeAsync(Queue, autoAck: false, consumer, stoppingToken);
            return (channel, consumer);
        }
        catch
        {
            await channel.DisposeAsync();
            throw;
        }
    }

    private async Task OnDeliveryAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stoppingToken)
    {
        try
        {
            await HandleDeliveryAsync(channel, delivery, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the message stays unacknowledged and goes back to the queue when the channel closes.
        }
        catch (Exception e)
        {
            // Acknowledging failed (the channel went away): the broker redelivers, and the processed-events record
            // makes that redelivery a no-op.
            LogSettleFailed(logger, e, Queue, delivery.BasicProperties.MessageId);
        }
    }

    private async Task HandleDeliveryAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stoppingToken)
    {
        if (!IntegrationEventJson.TryParse(delivery.Body.Span, out var integrationEvent, out var error))
        {
            LogMalformed(logger, Queue, delivery.RoutingKey, delivery.BasicProperties.MessageId, error);
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, CancellationToken.None);
            metrics.DeadLettered(Queue);
            return;
        }

        var attempt = DeliveryCount(delivery.BasicProperties) + 1;
        var maxAttempts = registration.Options.MaxDeliveryAttempts;
        if (attempt > maxAttempts)
        {
            // Returned more often than it was ever handled: consumers died holding it. Do not run it again.
            LogDeadLettered(logger, null, Queue, integrationEvent.Id, integrationEvent.Type, attempt - 1);
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, CancellationToken.None);
            metrics.DeadLettered(Queue);
            return;
        }

        try
        {
            var handled = await processor.ProcessAsync(integrationEvent, stoppingToken);
            if (!handled)
            {
                LogDuplicate(logger, Queue, integrationEvent.Id, integrationEvent.Type);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            if (attempt >= maxAttempts)
            {
                LogDeadLettered(logger, e, Queue, integrationEvent.Id, integrationEvent.Type, attempt);
                await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, CancellationToken.None);
                metrics.DeadLettered(Queue);
                return;
            }
            LogRetrying(logger, e, Queue, integrationEvent.Id, integrationEvent.Type, attempt, maxAttempts);
            // A requeued message comes straight back; a pause gives a passing failure a chance to pass.
            await Task.Delay(Backoff.Delay(attempt, FirstRequeueDelay, MaxRequeueDelay), stoppingToken);
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
            return;
        }
        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, CancellationToken.None);
    }

    private static int DeliveryCount(IReadOnlyBasicProperties properties) =>
        properties.Headers?.TryGetValue(DeliveryCountHeader, out var value) == true && value is IConvertible convertible
            ? (int)Math.Min(convertible.ToInt64(CultureInfo.InvariantCulture), int.MaxValue - 1)
            : 0;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Queue} cannot consume; retrying")]
    private static partial void LogCannotConsume(ILogger logger, Exception exception, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Queue} is consuming again after {Failures} failed attempts")]
    private static partial void LogConsumingAgain(ILogger logger, string queue, int failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Queue} stopped receiving ({Reason}); declaring and consuming again")]
    private static partial void LogConsumingStopped(ILogger logger, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Consumer {Queue} dead-letters a malformed message (routing key {RoutingKey}, message id {MessageId}): {Error}")]
    private static partial void LogMalformed(ILogger logger, string queue, string routingKey, string? messageId, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Consumer {Queue} skips event {EventId} ({EventType}): already processed")]
    private static partial void LogDuplicate(ILogger logger, string queue, Guid eventId, string eventType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Queue} failed to handle event {EventId} ({EventType}), attempt {Attempt} of {MaxAttempts}; requeueing")]
    private static partial void LogRetrying(ILogger logger, Exception exception, string queue, Guid eventId, string eventType, int attempt, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Consumer {Queue} dead-letters event {EventId} ({EventType}) after {Attempts} attempts")]
    private static partial void LogDeadLettered(ILogger logger, Exception? exception, string queue, Guid eventId, string eventType, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Queue} could not settle message {MessageId}; the broker will redeliver it")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, string queue, string? messageId);
}
