using Microsoft.Extensions.DependencyInjection;
using Platform.Contracts.Events;
using Platform.Data.Retention;
using Platform.Libraries.Tests.Messaging;
using Platform.Messaging;
using Platform.Testing;

namespace Platform.Libraries.Tests.Retention;

/// <summary>Retention of <c>processed_events</c> forgets only event ids older than the horizon: dedupe holds inside it.</summary>
[Collection(DataTierCollection.Name)]
public sealed class ProcessedEventsRetentionTests(DataTierFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string source = "retention-" + Guid.NewGuid().ToString("N")[..8];
    private readonly HandlerProbe probe = new();
    private TestDatabase database = null!;
    private TestBroker broker = null!;

    private string Queue => $"{source}.events";

    private string Type => $"{source}.happened";

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateAsync(fixture.Tier);
        await database.ExecuteAsync(RecordingHandler.CreateTableSql);
        broker = await TestBroker.ConnectAsync(fixture.Tier);
    }

    public async Task DisposeAsync()
    {
        await broker.DeleteQueueAsync(Queue);
        await broker.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task An_event_redelivered_inside_the_horizon_is_still_skipped_after_a_retention_pass()
    {
        await using var consumer = await MessagingHosts.StartAsync(fixture.Tier, database, builder =>
        {
            builder.Configuration["Retention:Interval"] = "01:00:00";
            builder.Services.AddSingleton(probe);
            builder.AddPlatformEventConsumer<RecordingHandler>(Queue, [Type]);
        });
        await broker.WaitForConsumerAsync(Queue, Patience);
        var recent = IntegrationEvent.Create(Type, source, new { Number = 1 });
        var forgotten = IntegrationEvent.Create(Type, source, new { Number = 2 });
        await broker.PublishAsync(recent);
        await broker.PublishAsync(forgotten);
        await WaitUntilHandledAsync(forgotten);
        // Six days ago is inside the default 7-day horizon; eight is outside.
        await database.ExecuteAsync($"UPDATE processed_events SET processed_at = now() - interval '6 days' WHERE event_id = '{recent.Id}'");
        await database.ExecuteAsync($"UPDATE processed_events SET processed_at = now() - interval '8 days' WHERE event_id = '{forgotten.Id}'");

        var pass = Assert.Single(await consumer.Services.GetRequiredService<RetentionRunner>().RunOnceAsync(CancellationToken.None));
        Assert.Equal(new RetentionPass("processed_events", 1, 1, LockedElsewhere: false), pass);
        Assert.Equal(1, await consumer.ReadMetricAsync("retention_rows_removed_total{table=\"processed_events\"}"));

        var after = IntegrationEvent.Create(Type, source, new { Number = 3 });
        await broker.PublishAsync(recent);
        await broker.PublishAsync(after);
        await WaitUntilHandledAsync(after); // one at a time, in order: the redelivered copy came before it
        Assert.Equal(1, await HandledCountAsync(recent));
        Assert.Equal(1, probe.AttemptsOf(recent.Id));
    }

    private Task<long> HandledCountAsync(IntegrationEvent integrationEvent) =>
        database.ScalarAsync<long>("SELECT count(*) FROM handled WHERE event_id = $1", integrationEvent.Id);

    private Task WaitUntilHandledAsync(IntegrationEvent integrationEvent) =>
        Poll.UntilAsync(async () => await HandledCountAsync(integrationEvent) > 0, Patience, $"event {integrationEvent.Id} to be handled");
}
