using System.Collections.Concurrent;
using System.Text.Json;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Testing;
using RabbitMQ.Client;

namespace Platform.Libraries.Tests.Messaging;

/// <summary>
/// The test's own view of the broker: taps that record what reaches an exchange, raw publishing (for duplicates
/// and malformed messages no producer of ours would send), and cleanup of every queue it declared.
/// </summary>
public sealed class TestBroker : IAsyncDisposable
{
    private readonly IConnection connection;
    private readonly ConcurrentBag<string> declaredQueues = [];
    private readonly List<IChannel> channels = [];

    private TestBroker(IConnection connection) => this.connection = connection;

    public static async Task<TestBroker> ConnectAsync(DataTier tier)
    {
        var factory = new ConnectionFactory
        {
            Uri = new Uri(tier.RabbitMqUri),
            ClientProvidedName = "messaging-tests",
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
        };
        var broker = new TestBroker(await factory.CreateConnectionAsync());
        await using var channel = await broker.connection.CreateChannelAsync();
        await EventTopology.DeclareExchangesAsync(channel, CancellationToken.None);
        return broker;
    }

    /// <summary>
    /// Records every message routed to <paramref name="exchange"/> with one of <paramref name="bindingKeys"/>. The
    /// queue is durable so that what is published while the tap reconnects after a broker restart waits for it.
    /// </summary>
    public async Task<EventTap> TapAsync(string exchange, params string[] bindingKeys)
    {
        var channel = await connection.CreateChannelAsync();
        channels.Add(channel);
        var queue = $"test.tap.{Guid.NewGuid():N}";
        await DeclareQueueAsync(channel, queue, arguments: null);
        foreach (var key in bindingKeys)
        {
            await channel.QueueBindAsync(queue, exchange, key);
        }
        var tap = new EventTap();
        var consumer = new RabbitMQ.Client.Events.AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            tap.Record(delivery);
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue, autoAck: true, consumer);
        return tap;
    }

    /// <summary>Declares a queue that is deleted when the test ends.</summary>
    public async Task DeclareQueueAsync(string queue, IDictionary<string, object?>? arguments, string exchange, string bindingKey)
    {
        await using var channel = await connection.CreateChannelAsync();
        await DeclareQueueAsync(channel, queue, arguments);
        await channel.QueueBindAsync(queue, exchange, bindingKey);
    }

    public async Task DeleteQueueAsync(string queue)
    {
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(queue);
    }

    /// <summary>Ready messages in a queue (not those delivered and unacknowledged).</summary>
    public async Task<uint> CountReadyAsync(string queue)
    {
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>A consumer declares its queue once it has started; publishing earlier would reach no queue.</summary>
    public Task WaitForConsumerAsync(string queue, TimeSpan timeout) =>
        Poll.UntilAsync(
            async () =>
            {
                await using var channel = await connection.CreateChannelAsync();
                return (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount;
            },
            consumers => consumers > 0,
            timeout,
            $"a consumer on {queue}");

    public Task PublishAsync(IntegrationEvent integrationEvent) =>
        PublishAsync(integrationEvent.Type, IntegrationEventJson.Serialize(integrationEvent), integrationEvent.Id.ToString());

    public async Task PublishAsync(string routingKey, byte[] body, string? messageId = null)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent, ContentType = "application/json", MessageId = messageId };
        await channel.BasicPublishAsync(EventTopology.Exchange, routingKey, mandatory: true, properties, body);
    }

    /// <summary>
    /// Whether the shared dead-letter queue holds a message with this id. Looks without taking: messages fetched
    /// without acknowledgement return to the queue when the channel closes.
    /// </summary>
    public async Task<bool> DeadLetterQueueHoldsAsync(string messageId)
    {
        await using var channel = await connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(EventTopology.DeadLetterQueue, autoAck: false) is { } message)
        {
            if (message.BasicProperties.MessageId == messageId)
            {
                return true;
            }
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in channels)
        {
            await channel.DisposeAsync();
        }
        await using (var channel = await connection.CreateChannelAsync())
        {
            foreach (var queue in declaredQueues)
            {
                await channel.QueueDeleteAsync(queue);
            }
        }
        await connection.DisposeAsync();
    }

    private async Task DeclareQueueAsync(IChannel channel, string queue, IDictionary<string, object?>? arguments)
    {
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments);
        declaredQueues.Add(queue);
    }
}

/// <summary>What a tap has received, in order of arrival.</summary>
public sealed class EventTap
{
    private readonly ConcurrentQueue<TappedMessage> messages = new();

    public IReadOnlyList<TappedMessage> Messages => [.. messages];

    public IEnumerable<TappedMessage> Of(Guid eventId) => messages.Where(m => m.MessageId == eventId.ToString());

    internal void Record(RabbitMQ.Client.Events.BasicDeliverEventArgs delivery) => messages.Enqueue(new TappedMessage(
        delivery.Exchange,
        delivery.RoutingKey,
        delivery.Body.ToArray(),
        delivery.BasicProperties.MessageId,
        delivery.BasicProperties.Type,
        delivery.BasicProperties.ContentType,
        delivery.BasicProperties.CorrelationId,
        delivery.BasicProperties.Persistent,
        delivery.BasicProperties.Headers?.ToDictionary() ?? []));

    public Task<TappedMessage> WaitForAsync(Guid eventId, TimeSpan timeout) =>
        Poll.UntilAsync(() => Task.FromResult(Of(eventId).FirstOrDefault()), message => message is not null, timeout, $"event {eventId} to arrive")!;

    public Task WaitForAllAsync(IReadOnlyCollection<Guid> eventIds, TimeSpan timeout)
    {
        var wanted = eventIds.Select(id => id.ToString()).ToHashSet();
        return Poll.UntilAsync(
            () => Task.FromResult(messages.Select(m => m.MessageId).Where(id => id is not null && wanted.Contains(id)).Distinct().Count()),
            arrived => arrived == wanted.Count,
            timeout,
            $"all {wanted.Count} events to arrive");
    }
}

public sealed record TappedMessage(
    string Exchange,
    string RoutingKey,
    byte[] Body,
    string? MessageId,
    string? Type,
    string? ContentType,
    string? CorrelationId,
    bool Persistent,
    IReadOnlyDictionary<string, object?> Headers)
{
    public IntegrationEvent Event => IntegrationEventJson.TryParse(Body, out var parsed, out var error) ? parsed : throw new InvalidOperationException(error);

    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
}
