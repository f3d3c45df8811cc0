using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Testing;
using RabbitMQ.Client;

namespace Platform.Auth.Tests;

/// <summary>
/// A queue of its own on the events exchange, bound to every event type, read by the test: what auth really
/// published, through the outbox and the broker.
/// </summary>
public sealed class EventQueue : IAsyncDisposable
{
    private readonly string queue = "auth-tests." + Guid.NewGuid().ToString("N");
    private readonly IConnection broker;
    private readonly List<IntegrationEvent> received = [];

    private EventQueue(IConnection broker) => this.broker = broker;

    public static async Task<EventQueue> StartAsync(DataTier tier)
    {
        var broker = await new ConnectionFactory { Uri = new Uri(tier.RabbitMqUri) }.CreateConnectionAsync();
        var events = new EventQueue(broker);
        await using var channel = await broker.CreateChannelAsync();
        await EventTopology.DeclareExchangesAsync(channel, CancellationToken.None);
        await channel.QueueDeclareAsync(events.queue, durable: false, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(events.queue, EventTopology.Exchange, "#");
        return events;
    }

    /// <summary>Every event about <paramref name="userId"/> received so far, once <paramref name="done"/> holds for them.</summary>
    public async Task<IReadOnlyList<IntegrationEvent>> AboutUntilAsync(Guid userId, Func<IReadOnlyList<IntegrationEvent>, bool> done)
    {
        List<IntegrationEvent> about = [];
        await Poll.UntilAsync(async () =>
        {
            await DrainAsync();
            about = received.Where(e => About(e, userId)).ToList();
            return done(about);
        }, TimeSpan.FromSeconds(30), "the events to arrive");
        return about;
    }

    /// <summary>Takes what arrived within a moment more, so an event published twice would be seen.</summary>
    public async Task<IReadOnlyList<IntegrationEvent>> SettledAboutAsync(Guid userId, Func<IReadOnlyList<IntegrationEvent>, bool> done)
    {
        await AboutUntilAsync(userId, done);
        await Task.Delay(TimeSpan.FromSeconds(1)); // a duplicate, if any, is published right behind the original
        return await AboutUntilAsync(userId, done);
    }

    /// <summary>The user the event is about: its <c>userId</c>, or the <c>targetUserId</c> of an admin action.</summary>
    private static bool About(IntegrationEvent e, Guid userId) =>
        (e.Data.TryGetProperty("userId", out var id) || e.Data.TryGetProperty("targetUserId", out id)) && id.GetString() == userId.ToString();

    private async Task DrainAsync()
    {
        await using var channel = await broker.CreateChannelAsync();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
        {
            Assert.True(IntegrationEventJson.TryParse(message.Body.Span, out var parsed, out var error), error);
            received.Add(parsed!);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await using (var channel = await broker.CreateChannelAsync())
        {
            await channel.QueueDeleteAsync(queue);
        }
        await broker.DisposeAsync();
    }
}
