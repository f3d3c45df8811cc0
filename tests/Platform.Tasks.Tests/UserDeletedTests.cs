using System.Net;
using Npgsql;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Hosting.Problems;
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

    /// <summary>A token issued before the deletion still validates until it expires: it must not put a task back.</summary>
    [Fact]
    public async Task A_deleted_users_token_creates_and_changes_nothing_after_the_purge()
    {
        var leaving = host.NewUser(fixture);
        var task = await leaving.CreateOkAsync("leaving");
        await WaitUntilConsumingAsync();

        await PublishAsync(IntegrationEvent.Create(EventTypes.UserDeleted, "auth", new { userId = leaving.UserId }));
        await Poll.UntilAsync(async () => (await leaving.ListOkAsync()).Items.Count == 0, TimeSpan.FromSeconds(30), "the purge");

        using var created = await leaving.CreateAsync(new { title = "after the deletion" });
        await TasksClient.ProblemAsync(created, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        using var changed = await leaving.SendAsync(HttpMethod.Patch, $"/api/tasks/{task.Id}", """{"title":"x"}""");
        await TasksClient.ProblemAsync(changed, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        Assert.Empty((await leaving.ListOkAsync()).Items);
        Assert.Equal(0L, await CountTasksAsync(leaving.UserId));
    }

    /// <summary>
    /// A create in flight when user.deleted is handled: it holds the user's generation row (every write locks it
    /// first) and its task is not committed yet. The purge waits for the row, then deletes what committed meanwhile.
    /// Before, the purge deleted first and locked after, so the task committed behind it stayed for ever.
    /// </summary>
    [Fact]
    public async Task A_create_in_flight_during_the_purge_does_not_outlive_it()
    {
        var leaving = host.NewUser(fixture);
        await leaving.CreateOkAsync("before");
        await WaitUntilConsumingAsync();

        await using var connection = await OpenDatabaseAsync();
        await using (var inFlight = await connection.BeginTransactionAsync())
        {
            await ExecuteAsync(connection, inFlight, "INSERT INTO cache_generations (user_id, generation) VALUES ($1, 1) ON CONFLICT (user_id) DO UPDATE SET generation = cache_generations.generation + 1", leaving.UserId);
            await ExecuteAsync(connection, inFlight, "INSERT INTO tasks (id, user_id, title, status, created_at, updated_at) VALUES (gen_random_uuid(), $1, 'in flight', 'todo', now(), now())", leaving.UserId);
            await PublishAsync(IntegrationEvent.Create(EventTypes.UserDeleted, "auth", new { userId = leaving.UserId }));
            await Poll.UntilAsync(() => PurgeWaitingAsync(), TimeSpan.FromSeconds(30), "the purge to wait for the in-flight write's lock");
            await inFlight.CommitAsync();
        }

        await Poll.UntilAsync(async () => await CountTasksAsync(leaving.UserId) == 0, TimeSpan.FromSeconds(30), "the purge to delete the task committed while it waited");
        await Poll.UntilAsync(() => QueueDepthAsync(), depth => depth == 0, TimeSpan.FromSeconds(30), "the event to be consumed");
        Assert.Equal(0L, await CountTasksAsync(leaving.UserId));
    }

    private async Task<NpgsqlConnection> OpenDatabaseAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary) { Database = host.Database }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, Guid userId)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { Parameters = { new() { Value = userId } } };
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> CountTasksAsync(Guid userId)
    {
        await using var connection = await OpenDatabaseAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM tasks WHERE user_id = $1", connection) { Parameters = { new() { Value = userId } } };
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A session of this database waiting for a row lock: the purge, blocked by the test's transaction.</summary>
    private async Task<bool> PurgeWaitingAsync()
    {
        await using var connection = await OpenDatabaseAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
        return (long)(await command.ExecuteScalarAsync())! > 0;
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
