using Npgsql;
using Platform.Contracts.Events;
using Platform.Messaging;
using Platform.Testing;

namespace Platform.Libraries.Tests.Messaging;

[Collection(DataTierCollection.Name)]
public sealed class MessagingSchemaTests(DataTierFixture fixture) : IAsyncLifetime
{
    private TestDatabase database = null!;

    public async Task InitializeAsync() => database = await TestDatabase.CreateAsync(fixture.Tier);

    public async Task DisposeAsync() => await database.DisposeAsync();

    [Fact]
    public async Task Migrating_again_changes_nothing_and_keeps_the_rows()
    {
        var kept = IntegrationEvent.Create(EventTypes.TaskCreated, "tasks", new { });
        await database.EnqueueAsync(kept);

        await database.MigrateAgainAsync();
        await database.MigrateAgainAsync();

        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE id = $1", kept.Id));
    }

    [Fact]
    public async Task A_commit_that_adds_events_notifies_listeners_once_and_a_rollback_does_not()
    {
        await using var listener = await database.DataSource.OpenConnectionAsync();
        var notifications = 0;
        listener.Notification += (_, e) => Interlocked.Increment(ref notifications);
        await using (var listen = new NpgsqlCommand($"LISTEN {MessagingSchema.NotificationChannel}", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await using (var writer = await database.DataSource.OpenConnectionAsync())
        {
            await using (var rolledBack = await writer.BeginTransactionAsync())
            {
                await Outbox.EnqueueAsync(writer, rolledBack, IntegrationEvent.Create(EventTypes.TaskCreated, "tasks", new { }), CancellationToken.None);
                await rolledBack.RollbackAsync();
            }
            await database.EnqueueAsync(Enumerable.Range(0, 3).Select(i => IntegrationEvent.Create(EventTypes.TaskCreated, "tasks", new { i })));
        }

        // Notifications arrive in commit order, so once the commit's arrived the rollback's would have, too.
        await Poll.UntilAsync(async () => { await listener.WaitAsync(TimeSpan.FromMilliseconds(100)); return Volatile.Read(ref notifications) > 0; }, TimeSpan.FromSeconds(10), "the commit's notification");
        Assert.Equal(1, Volatile.Read(ref notifications));
    }
}
