using Microsoft.Extensions.Options;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Hosting;
using Platform.Redis;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Platform.Gateway.Events;

/// <summary>
/// The instance's one consumer of <c>platform.events</c>: its own queue, bound to every event type a client may see,
/// so each gateway instance receives every such event and hands it to the streams it holds. Each event is appended to
/// the resume log first (idempotently: every instance appends, the log keeps one), then delivered, then acknowledged —
/// a broker restart redelivers what was not acknowledged, and clients drop a repeated id.
/// <para>
/// The queue is durable and persistent messages stay in it across a broker restart, so connected clients lose
/// nothing while the broker is away (the producers' outboxes hold their events meanwhile); it expires
/// (<see cref="EventStreamOptions.QueueExpirySeconds"/>) once no consumer has used it for that long, so a crashed
/// instance leaves nothing behind, and a stopping instance deletes it. Its length is capped: an instance that stops
/// consuming cannot fill the broker.
/// </para>
/// </summary>
public sealed partial class EventStreamConsumer(
    RabbitMqConnection rabbit,
    EventLog log,
    EventStreamHub hub,
    EventStreamMetrics metrics,
    IOptions<EventStreamOptions> options,
    ILogger<EventStreamConsumer> logger) : BackgroundService
{
    /// <summary>What a client may see: the task and file events, and auth's session events whatever their names.</summary>
    public static readonly IReadOnlyList<string> RoutingKeys = ["task.*", "file.*", "session.*", "sessions.*"];

    private const int MaxQueueLength = 100_000;
    private const ushort Prefetch = 256;

    /// <summary>Unique per process: a restarted pod must not pick up a queue that filled while nobody read it.</summary>
    public string Queue { get; } = $"gateway.streams.{Environment.MachineName.ToLowerInvariant()}.{Guid.NewGuid():N}";

    /// <summary>True once the queue is declared and consumed: events published from then on reach this instance.</summary>
    public bool Consuming { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var outage = new FailureStreak();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var connection = await rabbit.GetAsync(stoppingToken);
                var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                await using (channel)
                {
                    var consumer = await StartConsumingAsync(channel, stoppingToken);
                    Consuming = true;
                    if (outage.Ended() is > 0 and var failures)
                    {
                        LogConsumingAgain(logger, Queue, failures);
                    }
                    await ConsumerWatch.WaitUntilConsumingStopsAsync(connection, channel, consumer, stoppingToken);
                    Consuming = false;
                    LogConsumingStopped(logger, Queue, channel.CloseReason?.ToString() ?? "the broker cancelled the consumer");
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Consuming = false;
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

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            if (rabbit.IsOpen)
            {
                var connection = await rabbit.GetAsync(cancellationToken);
                await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                await channel.QueueDeleteAsync(Queue, ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogQueueNotDeleted(logger, Queue, e.Message); // it expires by itself
        }
    }

    private async Task<AsyncEventingBasicConsumer> StartConsumingAsync(IChannel channel, CancellationToken stoppingToken)
    {
        await channel.BasicQosAsync(prefetchSize: 0, prefetchCount: Prefetch, global: false, stoppingToken);
        await EventTopology.DeclareExchangesAsync(channel, stoppingToken);
        await channel.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
        {
            ["x-queue-type"] = "classic",
            ["x-expires"] = options.Value.QueueExpirySeconds * 1000,
            ["x-max-length"] = MaxQueueLength,
            ["x-overflow"] = "drop-head",
        }, cancellationToken: stoppingToken);
        foreach (var routingKey in RoutingKeys)
        {
            await channel.QueueBindAsync(Queue, EventTopology.Exchange, routingKey, cancellationToken: stoppingToken);
        }
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) => OnDeliveryAsync(channel, delivery, stoppingToken);
        await channel.BasicConsumeAsync(Queue, autoAck: false, consumer, stoppingToken);
        return consumer;
    }

    private async Task OnDeliveryAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stoppingToken)
    {
        try
        {
            if (IntegrationEventJson.TryParse(delivery.Body.Span, out var integrationEvent, out _)
                && EventProjection.Project(integrationEvent) is { } clientEvent)
            {
                await HandleAsync(clientEvent, stoppingToken);
            }
            // Not for clients (no owner, not an envelope): nothing to do here; the services' own queues dead-letter bad messages.
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, CancellationToken.None);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the queue goes with this instance.
        }
        catch (Exception e)
        {
            LogSettleFailed(logger, e, Queue, delivery.BasicProperties.MessageId);
        }
    }

    /// <summary>Logs first, so a client that reconnects right after seeing an event can resume from it; delivers even when the log cannot take it.</summary>
    private async Task HandleAsync(ClientEvent clientEvent, CancellationToken stoppingToken)
    {
        try
        {
            await log.AppendAsync(clientEvent, stoppingToken);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e) && !stoppingToken.IsCancellationRequested)
        {
            metrics.Dropped("log-unavailable");
            LogNotLogged(logger, clientEvent.Id, clientEvent.Type, e.Message);
        }
        hub.Deliver(clientEvent);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event stream consumer {Queue} cannot consume; retrying")]
    private static partial void LogCannotConsume(ILogger logger, Exception exception, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event stream consumer {Queue} is consuming again after {Failures} failed attempts")]
    private static partial void LogConsumingAgain(ILogger logger, string queue, int failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event stream consumer {Queue} stopped receiving ({Reason}); declaring and consuming again")]
    private static partial void LogConsumingStopped(ILogger logger, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event stream consumer {Queue} could not settle message {MessageId}; the broker will redeliver it")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, string queue, string? messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} ({EventType}) was delivered live but not written to the resume log: {Error}")]
    private static partial void LogNotLogged(ILogger logger, Guid eventId, string eventType, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event stream queue {Queue} was not deleted at shutdown ({Error}); it expires by itself")]
    private static partial void LogQueueNotDeleted(ILogger logger, string queue, string error);
}
