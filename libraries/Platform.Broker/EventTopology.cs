using RabbitMQ.Client;

namespace Platform.Broker;

/// <summary>
/// The broker objects of docs/architecture.md §6.1, declared by whoever needs them first. Every declaration is
/// idempotent (same name, same arguments), so producers and consumers of every service may declare them on each start.
/// </summary>
public static class EventTopology
{
    public const string Exchange = "platform.events";
    public const string DeadLetterExchange = "platform.events.dlx";

    /// <summary>Keeps every dead letter of every service until someone looks at it.</summary>
    public const string DeadLetterQueue = "platform.events.dead";

    /// <summary>
    /// Quorum queues count deliveries on the broker (<c>x-delivery-count</c>), across consumer replicas and
    /// crashes, which is what bounds retries of a poison message. At-least-once dead-lettering means a dead
    /// letter leaves the queue only once the dead-letter queue has it; the broker requires reject-publish
    /// overflow for that strategy, and with no length limit set it never refuses a publish.
    /// </summary>
    private static readonly Dictionary<string, object?> ConsumerQueueArguments = new()
    {
        ["x-queue-type"] = "quorum",
        ["x-dead-letter-exchange"] = DeadLetterExchange,
        ["x-dead-letter-strategy"] = "at-least-once",
        ["x-overflow"] = "reject-publish",
    };

    private static readonly Dictionary<string, object?> DeadLetterQueueArguments = new()
    {
        ["x-queue-type"] = "quorum",
    };

    public static async Task DeclareExchangesAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(DeadLetterExchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// A service's durable queue bound to the event types it handles, dead-lettering into
    /// <see cref="DeadLetterQueue"/>. Bindings are only added: a type a service stops handling must be
    /// unbound by hand (or the queue deleted), because AMQP cannot list a queue's bindings.
    /// </summary>
    public static async Task DeclareConsumerQueueAsync(IChannel channel, string queue, IEnumerable<string> routingKeys, CancellationToken cancellationToken)
    {
        await DeclareExchangesAsync(channel, cancellationToken);
        await channel.QueueDeclareAsync(DeadLetterQueue, durable: true, exclusive: false, autoDelete: false, arguments: DeadLetterQueueArguments, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(DeadLetterQueue, DeadLetterExchange, "#", cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: ConsumerQueueArguments, cancellationToken: cancellationToken);
        foreach (var routingKey in routingKeys)
        {
            await channel.QueueBindAsync(queue, Exchange, routingKey, cancellationToken: cancellationToken);
        }
    }
}
