using System.Diagnostics;
using System.Text.Json;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Messaging;
using Platform.Testing;
using Xunit.Abstractions;

namespace Platform.Libraries.Tests.Messaging;

[Collection(DataTierCollection.Name)]
public sealed class OutboxDispatcherTests(DataTierFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Every event of a test carries its own source, so leftovers of other tests never count.</summary>
    private readonly string source = "test-" + Guid.NewGuid().ToString("N")[..8];
    private TestDatabase database = null!;
    private TestBroker broker = null!;
    private EventTap tap = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateAsync(fixture.Tier);
        broker = await TestBroker.ConnectAsync(fixture.Tier);
        tap = await broker.TapAsync(EventTopology.Exchange, "#");
    }

    public async Task DisposeAsync()
    {
        await broker.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task A_committed_event_is_published_with_the_exact_envelope()
    {
        await using var producer = await MessagingHosts.StartProducerAsync(fixture.Tier, database);
        var created = IntegrationEvent.Create(
            EventTypes.TaskCreated,
            source,
            new { TaskId = Guid.NewGuid(), Title = "Write the outbox", Tags = (string[])["a", "b"], Estimate = 1.5, DueAt = (DateTimeOffset?)null },
            correlationId: "request-42");

        await using (var connection = await database.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Outbox.EnqueueAsync(connection, transaction, created, CancellationToken.None);
            await transaction.CommitAsync();
        }

        var message = await tap.WaitForAsync(created.Id, Patience);
        Assert.Equal(created, message.Event);
        Assert.Equal(["id", "type", "occurredAt", "source", "correlationId", "data"], message.Json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["dueAt", "estimate", "tags", "taskId", "title"], message.Json.GetProperty("data").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(EventTopology.Exchange, message.Exchange);
        Assert.Equal(EventTypes.TaskCreated, message.RoutingKey);
        Assert.Equal(created.Id.ToString(), message.MessageId);
        Assert.Equal(EventTypes.TaskCreated, message.Type);
        Assert.Equal("application/json", message.ContentType);
        Assert.Equal("request-42", message.CorrelationId);
        Assert.True(message.Persistent);
        await Poll.UntilAsync(async () => await database.CountOutboxAsync() == 0, Patience, "the published row to leave the outbox");
    }

    [Fact]
    public async Task A_rolled_back_transaction_publishes_nothing()
    {
        await using var producer = await MessagingHosts.StartProducerAsync(fixture.Tier, database);
        var rolledBack = IntegrationEvent.Create(EventTypes.TaskDeleted, source, new { TaskId = 1 });
        var committed = IntegrationEvent.Create(EventTypes.TaskDeleted, source, new { TaskId = 2 });

        await using (var connection = await database.DataSource.OpenConnectionAsync())
        {
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                await Outbox.EnqueueAsync(connection, transaction, rolledBack, CancellationToken.None);
                await transaction.RollbackAsync();
            }
            await Outbox.EnqueueAsync(connection, transaction: null, committed, CancellationToken.None);
        }

        // The dispatcher publishes in outbox order, so once the later event is here the earlier one would be too.
        await tap.WaitForAsync(committed.Id, Patience);
        Assert.Empty(tap.Of(rolledBack.Id));
        Assert.Equal(0, await database.CountOutboxAsync());
    }

    [Fact]
    public async Task Events_enqueued_while_the_broker_is_down_are_delivered_once_it_returns()
    {
        await using var producer = await MessagingHosts.StartProducerAsync(fixture.Tier, database);
        var events = Enumerable.Range(0, 200).Select(i => IntegrationEvent.Create(EventTypes.FileUploaded, source, new { Number = i })).ToList();
        try
        {
            await fixture.Tier.DownAsync(DataTier.RabbitMq);
            foreach (var chunk in events.Chunk(20))
            {
                await database.EnqueueAsync(chunk);
            }

            await Poll.UntilAsync(() => producer.ReadMetricAsync("outbox_pending"), pending => pending == 200, Patience, "outbox_pending to show the 200 waiting events");
            Assert.Equal(200, await database.CountOutboxAsync());
            var waited = await producer.ReadMetricAsync("outbox_oldest_pending_age_seconds");
            await Poll.UntilAsync(() => producer.ReadMetricAsync("outbox_oldest_pending_age_seconds"), age => age > waited + 1, Patience,
                "the oldest pending event's age to keep growing while the broker is down");
        }
        finally
        {
            await fixture.Tier.UpAsync(DataTier.RabbitMq);
        }

        await tap.WaitForAllAsync(events.Select(e => e.Id).ToList(), Patience);
        await Poll.UntilAsync(async () => await database.CountOutboxAsync() == 0, Patience, "the outbox to empty");
        await AssertNothingMoreArrivesAsync();
        Assert.All(events, e => Assert.Equal(e, Assert.Single(tap.Of(e.Id)).Event));
        await Poll.UntilAsync(() => producer.ReadMetricAsync("outbox_pending"), pending => pending == 0, Patience, "outbox_pending to return to 0");
        Assert.Equal(0, await producer.ReadMetricAsync("outbox_oldest_pending_age_seconds"));
    }

    [Fact]
    public async Task Two_dispatchers_on_one_outbox_publish_each_event_exactly_once()
    {
        await using var first = await MessagingHosts.StartProducerAsync(fixture.Tier, database);
        await using var second = await MessagingHosts.StartProducerAsync(fixture.Tier, database);
        var events = Enumerable.Range(0, 1_000).Select(i => IntegrationEvent.Create(EventTypes.TaskUpdated, source, new { Number = i })).ToList();

        await Task.WhenAll(events.Chunk(50).Select(chunk => database.EnqueueAsync(chunk)));

        await tap.WaitForAllAsync(events.Select(e => e.Id).ToList(), Patience);
        await Poll.UntilAsync(async () => await database.CountOutboxAsync() == 0, Patience, "the outbox to empty");
        await AssertNothingMoreArrivesAsync();
        var ids = events.Select(e => e.Id.ToString()).ToHashSet();
        var delivered = tap.Messages.Where(m => ids.Contains(m.MessageId!)).ToList();
        Assert.Equal(1_000, delivered.Count);
        Assert.Equal(1_000, delivered.Select(m => m.MessageId).Distinct().Count());
    }

    [Fact]
    public async Task A_thousand_waiting_events_are_published_in_confirmed_batches()
    {
        var events = Enumerable.Range(0, 1_000).Select(i => IntegrationEvent.Create(EventTypes.TaskCreated, source, new { Number = i, Title = "a task of ordinary size" })).ToList();
        foreach (var chunk in events.Chunk(100))
        {
            await database.EnqueueAsync(chunk);
        }

        var started = Stopwatch.GetTimestamp();
        await using var producer = await MessagingHosts.StartProducerAsync(fixture.Tier, database);
        await tap.WaitForAllAsync(events.Select(e => e.Id).ToList(), Patience);
        var elapsed = Stopwatch.GetElapsedTime(started);

        output.WriteLine($"1,000 events from the outbox to a consumer in {elapsed.TotalMilliseconds:0} ms ({1_000 / elapsed.TotalSeconds:0} events/s), host start included");
        await Poll.UntilAsync(() => producer.ReadMetricAsync("outbox_published_total"), published => published == 1_000, Patience, "outbox_published_total to count the 1,000 events");
        Assert.Equal(0, await database.CountOutboxAsync());
    }

    [Fact]
    public async Task An_event_the_broker_refuses_stays_in_the_outbox_and_is_retried_with_backoff()
    {
        // A full queue that rejects publishes makes the broker nack every copy routed to it.
        var type = $"test.{source}.refused";
        var blocker = $"test.blocker.{Guid.NewGuid():N}";
        await broker.DeclareQueueAsync(blocker, new Dictionary<string, object?> { ["x-max-length"] = 0, ["x-overflow"] = "reject-publish" }, EventTopology.Exchange, type);
        await using var producer = await MessagingHosts.StartProducerAsync(fixture.Tier, database);
        var refused = IntegrationEvent.Create(type, source, new { Number = 1 });

        await database.EnqueueAsync(refused);

        await Poll.UntilAsync(
            () => database.ScalarAsync<int>("SELECT attempts FROM outbox WHERE id = $1", refused.Id),
            attempts => attempts >= 2,
            Patience,
            "the refused event to be retried");
        var lastError = await database.ScalarAsync<string>("SELECT last_error FROM outbox WHERE id = $1", refused.Id);
        Assert.StartsWith("PublishException: Message rejected by broker", lastError, StringComparison.Ordinal);
        var wait = await database.ScalarAsync<double>("SELECT extract(epoch FROM next_attempt_at - clock_timestamp())::float8 FROM outbox WHERE id = $1", refused.Id);
        Assert.InRange(wait, -1, 30);
        Assert.True(await producer.ReadMetricAsync("outbox_publish_failures_total") >= 2);

        await broker.DeleteQueueAsync(blocker);
        await Poll.UntilAsync(async () => await database.CountOutboxAsync() == 0, Patience, "the event to be confirmed once nothing refuses it");
        Assert.NotEmpty(tap.Of(refused.Id));
    }

    [Fact]
    public async Task The_dispatcher_keeps_going_when_postgresql_restarts()
    {
        await using var producer = await MessagingHosts.StartProducerAsync(fixture.Tier, database);
        var before = IntegrationEvent.Create(EventTypes.UserRegistered, source, new { Number = 1 });
        await database.EnqueueAsync(before);
        await tap.WaitForAsync(before.Id, Patience);

        try
        {
            await fixture.Tier.DownAsync(DataTier.Primary);
        }
        finally
        {
            await fixture.Tier.UpAsync(DataTier.Primary);
        }
        var after = IntegrationEvent.Create(EventTypes.UserRegistered, source, new { Number = 2 });
        await Poll.UntilAsync(async () => { await database.EnqueueAsync(after); return true; }, Patience, "PostgreSQL to accept the event");

        await tap.WaitForAsync(after.Id, Patience);
    }

    /// <summary>
    /// A last event sent through the same path after everything else: when it arrives, anything published
    /// before it (a late duplicate included) has arrived too.
    /// </summary>
    private async Task AssertNothingMoreArrivesAsync()
    {
        var last = IntegrationEvent.Create(EventTypes.UserDeleted, source, new { Last = true });
        await database.EnqueueAsync(last);
        await tap.WaitForAsync(last.Id, Patience);
    }
}
