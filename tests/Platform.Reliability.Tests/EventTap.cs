using System.Collections.Concurrent;
using System.Text.Json;
using Platform.Broker;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Platform.Reliability.Tests;

/// <summary>
/// A test consumer on a durable queue of its own, bound to <c>platform.events</c> like a service's queue is:
/// it counts the events that reached the broker, by type, and every delivery of an id seen before. The queue
/// outlives broker restarts, so what is published while the tap's connection is down waits for it.
/// </summary>
public sealed class EventTap : IAsyncDisposable
{
    private readonly string uri;
    private readonly IConnection connection;
    private readonly IChannel channel;
    private readonly string queue;
    private readonly ConcurrentDictionary<Guid, int> deliveries = new();
    private readonly ConcurrentDictionary<Guid, string> types = new();
    private readonly ConcurrentDictionary<Guid, Guid> subjects = new();

    private EventTap(string uri, IConnection connection, IChannel channel, string queue)
    {
        this.uri = uri;
        this.connection = connection;
        this.channel = channel;
        this.queue = queue;
    }

    /// <summary>Events seen at least once.</summary>
    public int Unique => deliveries.Count;

    /// <summary>Deliveries of an event id already seen (at-least-once delivery allows them; consumers must not apply them).</summary>
    public int Redelivered => deliveries.Values.Sum(count => count - 1);

    public int Count(string type) => types.Values.Count(seen => seen == type);

    public Guid[] Ids(string type) => [.. types.Where(pair => pair.Value == type).Select(pair => pair.Key)];

    /// <summary>What the events of a type were about: their data's <c>id</c> (a task, a file) or else <c>userId</c>.</summary>
    public HashSet<Guid> Subjects(string type) => [.. subjects.Where(pair => types.GetValueOrDefault(pair.Key) == type).Select(pair => pair.Value)];

    public static async Task<EventTap> StartAsync(string rabbitMqUri, params string[] routingKeys)
    {
        var factory = new ConnectionFactory
        {
            Uri = new Uri(rabbitMqUri),
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
        };
        var connection = await factory.CreateConnectionAsync("reliability-tests");
        var channel = await connection.CreateChannelAsync();
        var queue = "reliability.tap." + Guid.NewGuid().ToString("N");
        await EventTopology.DeclareExchangesAsync(channel, CancellationToken.None);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        foreach (var routingKey in routingKeys)
        {
            await channel.QueueBindAsync(queue, EventTopology.Exchange, routingKey);
        }
        var tap = new EventTap(rabbitMqUri, connection, channel, queue);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            var id = Guid.Parse(delivery.BasicProperties.MessageId!);
            tap.types[id] = delivery.RoutingKey;
            if (Subject(delivery.Body) is { } subject)
            {
                tap.subjects[id] = subject;
            }
            tap.deliveries.AddOrUpdate(id, 1, (_, seen) => seen + 1);
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        return tap;
    }

    private static Guid? Subject(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var envelope = JsonDocument.Parse(body);
            return envelope.RootElement.TryGetProperty("data", out var data)
                && (data.TryGetProperty("id", out var id) || data.TryGetProperty("userId", out id)) && id.TryGetGuid(out var subject)
                ? subject
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Deletes the tap's queue, so a durable queue nobody reads does not pile up events in the run directory's broker;
    /// after a drill killed the broker, the tap's own channel may be closed for good, so a connection of its own does it.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await channel.QueueDeleteAsync(queue);
        }
        catch (AlreadyClosedException)
        {
            try
            {
                await using var cleanup = await new ConnectionFactory { Uri = new Uri(uri) }.CreateConnectionAsync("reliability-tests-cleanup");
                await using var cleanupChannel = await cleanup.CreateChannelAsync();
                await cleanupChannel.QueueDeleteAsync(queue);
            }
            catch (BrokerUnreachableException)
            {
                // The broker is not back (the drill failed): the queue stays, and the test's own failure is the one to see.
            }
        }
        await channel.DisposeAsync();
        await connection.DisposeAsync();
    }
}
