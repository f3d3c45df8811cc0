using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Testing;
using RabbitMQ.Client;

namespace Platform.Tasks.Tests;

[Collection(TasksTierCollection.Name)]
public sealed class UserDeletedTests(TasksTierFixture fixture) : IAsyncLifetime
{
    private TasksHost host = null!;
    private IConnection broker = null!;

    public async Task InitializeAsync()
    {
        host = await TasksHost.StartAsync(fixture, "tasks_user_deleted");
        broker = await new ConnectionFactory { Uri = new Uri(fixture.Tier.RabbitMqUri) }.CreateConnectionAsync();
    }

    public async Task DisposeAsync()
    {
        await broker.DisposeAsync();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task User_deleted_purges_the_users_tasks_and_cached_answers_and_spares_everyone_else()
    {
        var leaving = host.NewUser(fixture);
        var staying = host.NewUser(fixture);
        var tasks = new List<TaskView>();
        for (var i = 0; i < 3; i++)
        {
            tasks.Add(await leaving.CreateOkAsync($"leaving {i}"));
        }
        var kept = await staying.CreateOkAsync("staying");
        await leaving.GetOkAsync(tasks[0].Id); // cached
        Assert.Equal(3, (await leaving.ListOkAsync()).Items.Count);
        await WaitUntilConsumingAsync();

        await PublishAsync(IntegrationEvent.Create(EventTypes.UserDeleted, "auth", new { userId = leaving.UserId }));

        await Poll.UntilAsync(async () => (await leaving.ListOkAsync()).Items.Count == 0, TimeSpan.FromSeconds(30), "the user's tasks to be purged");
        using var gone = await leaving.SendAsync(HttpMethod.Get, $"/api/tasks/{tasks[0].Id}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(kept, await staying.GetOkAsync(kept.Id));
    }

    [Fact]
    public async Task A_redelivered_user_deleted_is_harmless()
    {
        var leaving = host.NewUser(fixture);
        var staying = host.NewUser(fixture);
        await leaving.CreateOkAsync("leaving");
        var kept = await staying.CreateOkAsync("staying");
        await WaitUntilConsumingAsync();
        var deleted = IntegrationEvent.Create(EventTypes.UserDeleted, "auth", new { userId = leaving.UserId });

        await PublishAsync(deleted);
        await Poll.UntilAsync(async () => (await leaving.ListOkAsync()).Items.Count == 0, TimeSpan.FromSeconds(30), "the purge");
        await PublishAsync(deleted);
        await PublishAsync(IntegrationEvent.Create(EventTypes.UserDeleted, "auth", new { userId = leaving.UserId }));

        await Poll.UntilAsync(() => QueueDepthAsync(), depth => depth == 0, TimeSpan.FromSeconds(30), "the redeliveries to be consumed");
        Assert.Empty((await leaving.ListOkAsync()).Items);
        Assert.Equal(kept, await staying.GetOkAsync(kept.Id));
        Assert.Equal(0u, await DeadLettersForAsync(deleted.Id));
    }

    private async Task WaitUntilConsumingAsync()
    {
        await using var channel = await broker.CreateChannelAsync();
        await Poll.UntilAsync(async () => (await channel.QueueDeclarePassiveAsync(host.EventQueue)).ConsumerCount > 0,
            TimeSpan.FromSeconds(30), "the service to consume its queue");
    }

    private async Task<uint> QueueDepthAsync()
    {
        await using var channel = await broker.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(host.EventQueue)).MessageCount;
    }

    private async Task<uint> DeadLettersForAsync(Guid eventId)
    {
        await using var channel = await broker.CreateChannelAsync();
        var dead = 0u;
        while (await channel.BasicGetAsync(EventTopology.DeadLetterQueue, autoAck: false) is { } message)
        {
            if (IntegrationEventJson.TryParse(message.Body.Span, out var parsed, out _) && parsed.Id == eventId)
            {
                dead++;
            }
        }
        return dead; // closing the channel returns the unacknowledged messages to the queue
    }

    private async Task PublishAsync(IntegrationEvent integrationEvent)
    {
        await using var channel = await broker.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await EventTopology.DeclareExchangesAsync(channel, CancellationToken.None);
        await channel.BasicPublishAsync(EventTopology.Exchange, integrationEvent.Type, mandatory: true,
            new BasicProperties { ContentType = "application/json", Persistent = true, MessageId = integrationEvent.Id.ToString() },
            IntegrationEventJson.Serialize(integrationEvent));
    }
}
