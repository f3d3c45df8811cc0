using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Messaging;
using Platform.Testing;

namespace Platform.Libraries.Tests.Messaging;

[Collection(DataTierCollection.Name)]
public sealed class EventConsumerTests(DataTierFixture fixture) : IAsyncLifetime
{
    private const int MaxDeliveryAttempts = 3;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string source = "test-" + Guid.NewGuid().ToString("N")[..8];
    private readonly HandlerProbe probe = new();
    private TestDatabase database = null!;
    private TestBroker broker = null!;
    private EventTap deadLetters = null!;

    /// <summary>The consumer's queue, and the one event type it is bound to: no other test's traffic reaches it.</summary>
    private string Queue => $"{source}.events";

    private string Type => $"{source}.happened";

    private string DeadLetteredSeries => $"events_dead_lettered_total{{queue=\"{Queue}\"}}";

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateAsync(fixture.Tier);
        await database.ExecuteAsync(RecordingHandler.CreateTableSql);
        broker = await TestBroker.ConnectAsync(fixture.Tier);
        deadLetters = await broker.TapAsync(EventTopology.DeadLetterExchange, Type);
    }

    public async Task DisposeAsync()
    {
        await broker.DeleteQueueAsync(Queue);
        await broker.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task An_event_is_handled_in_the_consumers_transaction_and_acknowledged()
    {
        var consumer = await StartConsumerAsync();
        var happened = Event(new { Number = 1 });

        await broker.PublishAsync(happened);

        await WaitUntilHandledAsync(happened);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM processed_events WHERE consumer = $1 AND event_id = $2", Queue, happened.Id));
        await consumer.DisposeAsync();
        Assert.Equal(0u, await broker.CountReadyAsync(Queue));
    }

    [Fact]
    public async Task The_same_event_delivered_twice_is_handled_once()
    {
        await using var consumer = await StartConsumerAsync();
        var twice = Event(new { Number = 1 });
        var after = Event(new { Number = 2 });

        await broker.PublishAsync(twice);
        await broker.PublishAsync(twice);
        await broker.PublishAsync(after);

        // One at a time, in order: when the later event is handled, both copies of the first have been seen.
        await WaitUntilHandledAsync(after);
        Assert.Equal(1, await HandledCountAsync(twice));
        Assert.Equal(1, probe.AttemptsOf(twice.Id));
    }

    [Fact]
    public async Task A_handler_that_fails_once_succeeds_when_the_event_is_redelivered()
    {
        await using var consumer = await StartConsumerAsync();
        var flaky = Event(new { FailAttempts = 1 });

        await broker.PublishAsync(flaky);

        await WaitUntilHandledAsync(flaky);
        Assert.Equal(2, probe.AttemptsOf(flaky.Id));
        Assert.Equal(1, await HandledCountAsync(flaky));
    }

    [Fact]
    public async Task A_handler_that_keeps_failing_is_retried_then_dead_lettered()
    {
        await using var consumer = await StartConsumerAsync();
        var poison = Event(new { FailAttempts = 1_000 });
        var next = Event(new { Number = 2 });
        Assert.Equal(0, await consumer.ReadMetricAsync(DeadLetteredSeries));

        await broker.PublishAsync(poison);

        var deadLetter = await deadLetters.WaitForAsync(poison.Id, Patience);
        Assert.Equal(poison, deadLetter.Event);
        Assert.Equal("rejected", Encoding.UTF8.GetString((byte[])deadLetter.Headers["x-first-death-reason"]!));
        Assert.Equal(MaxDeliveryAttempts, probe.AttemptsOf(poison.Id));
        Assert.Equal(0, await HandledCountAsync(poison));
        Assert.True(await broker.DeadLetterQueueHoldsAsync(poison.Id.ToString()));
        Assert.Equal(1, await consumer.ReadMetricAsync(DeadLetteredSeries));

        await broker.PublishAsync(next);
        await WaitUntilHandledAsync(next);
    }

    [Fact]
    public async Task A_malformed_message_is_dead_lettered_without_reaching_the_handler()
    {
        await using var consumer = await StartConsumerAsync();
        var notJson = Guid.NewGuid();
        var withoutId = Guid.NewGuid();
        var next = Event(new { Number = 1 });

        await broker.PublishAsync(Type, "{\"id\": "u8.ToArray(), notJson.ToString());
        await broker.PublishAsync(Type, Encoding.UTF8.GetBytes($$$"""{"type":"{{{Type}}}","occurredAt":"2026-01-01T00:00:00Z","source":"x","correlationId":null,"data":{}}"""), withoutId.ToString());
        await broker.PublishAsync(next);

        await deadLetters.WaitForAsync(notJson, Patience);
        await deadLetters.WaitForAsync(withoutId, Patience);
        await WaitUntilHandledAsync(next);
        Assert.Equal(1, probe.TotalAttempts);
        Assert.True(await broker.DeadLetterQueueHoldsAsync(notJson.ToString()));
        Assert.Equal(2, await consumer.ReadMetricAsync(DeadLetteredSeries));
    }

    [Fact]
    public async Task The_consumer_resumes_after_the_broker_restarts()
    {
        await using var consumer = await StartConsumerAsync();
        var before = Event(new { Number = 1 });
        await broker.PublishAsync(before);
        await WaitUntilHandledAsync(before);

        try
        {
            await fixture.Tier.DownAsync(DataTier.RabbitMq);
        }
        finally
        {
            await fixture.Tier.UpAsync(DataTier.RabbitMq);
        }
        var after = Event(new { Number = 2 });
        await Poll.UntilAsync(async () => { await broker.PublishAsync(after); return true; }, Patience, "the broker to accept a publish again");

        await WaitUntilHandledAsync(after);
    }

    [Fact]
    public async Task A_consumer_whose_queue_is_deleted_declares_it_again_and_keeps_consuming()
    {
        await using var consumer = await StartConsumerAsync();

        await broker.DeleteQueueAsync(Queue);

        await broker.WaitForConsumerAsync(Queue, Patience);
        var after = Event(new { Number = 1 });
        await broker.PublishAsync(after);
        await WaitUntilHandledAsync(after);
    }

    [Fact]
    public async Task Events_wait_in_the_consumer_while_postgresql_is_down_instead_of_being_dead_lettered()
    {
        await using var consumer = await StartConsumerAsync();
        var during = Event(new { Number = 1 });
        try
        {
            await fixture.Tier.DownAsync(DataTier.Primary);
            await broker.PublishAsync(during);
            // Taken by the consumer, which holds it unacknowledged while it waits for the database.
            await Poll.UntilAsync(async () => await broker.CountReadyAsync(Queue) == 0, Patience, "the consumer to take the event");
        }
        finally
        {
            await fixture.Tier.UpAsync(DataTier.Primary);
        }

        await WaitUntilHandledAsync(during);
        Assert.Equal(1, probe.AttemptsOf(during.Id));
        Assert.Empty(deadLetters.Of(during.Id));
    }

    [Fact]
    public async Task An_event_from_one_services_outbox_is_handled_by_another_services_consumer()
    {
        await using var producerDatabase = await TestDatabase.CreateAsync(fixture.Tier);
        await using var producer = await MessagingHosts.StartProducerAsync(fixture.Tier, producerDatabase);
        await using var consumer = await StartConsumerAsync();
        var happened = Event(new { Number = 1 });

        await producerDatabase.EnqueueAsync(happened);

        await WaitUntilHandledAsync(happened);
    }

    private IntegrationEvent Event<TData>(TData data) => IntegrationEvent.Create(Type, source, data);

    private async Task<TestApp> StartConsumerAsync()
    {
        var consumer = await MessagingHosts.StartAsync(fixture.Tier, database, builder =>
        {
            builder.Services.AddSingleton(probe);
            builder.AddPlatformEventConsumer<RecordingHandler>(Queue, [Type], options => options.MaxDeliveryAttempts = MaxDeliveryAttempts);
        });
        await broker.WaitForConsumerAsync(Queue, Patience);
        return consumer;
    }

    private Task<long> HandledCountAsync(IntegrationEvent integrationEvent) =>
        database.ScalarAsync<long>("SELECT count(*) FROM handled WHERE event_id = $1", integrationEvent.Id);

    private Task WaitUntilHandledAsync(IntegrationEvent integrationEvent) =>
        Poll.UntilAsync(async () => await HandledCountAsync(integrationEvent) > 0, Patience, $"event {integrationEvent.Id} to be handled");
}
