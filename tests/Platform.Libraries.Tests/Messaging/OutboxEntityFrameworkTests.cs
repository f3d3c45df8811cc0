using Microsoft.EntityFrameworkCore;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Messaging;

namespace Platform.Libraries.Tests.Messaging;

[Collection(DataTierCollection.Name)]
public sealed class OutboxEntityFrameworkTests(DataTierFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string source = "test-" + Guid.NewGuid().ToString("N")[..8];
    private TestDatabase database = null!;
    private TestBroker broker = null!;
    private EventTap tap = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateAsync(fixture.Tier);
        await database.ExecuteAsync(NotesContext.CreateTableSql);
        broker = await TestBroker.ConnectAsync(fixture.Tier);
        tap = await broker.TapAsync(EventTopology.Exchange, "#");
    }

    public async Task DisposeAsync()
    {
        await broker.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task SaveChanges_writes_the_change_and_its_event_and_the_event_is_published()
    {
        await using var producer = await MessagingHosts.StartProducerAsync(fixture.Tier, database);
        var note = new Note { Id = Guid.NewGuid(), Text = "written with EF" };
        var created = IntegrationEvent.Create(EventTypes.TaskCreated, source, new { NoteId = note.Id }, correlationId: "request-7");

        await using (var db = NewContext())
        {
            db.Notes.Add(note);
            db.AddEvent(created);
            await db.SaveChangesAsync();
        }

        Assert.Equal(created, (await tap.WaitForAsync(created.Id, Patience)).Event);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM notes WHERE id = $1", note.Id));
    }

    [Fact]
    public async Task A_rolled_back_EF_transaction_writes_and_publishes_nothing()
    {
        await using var producer = await MessagingHosts.StartProducerAsync(fixture.Tier, database);
        var note = new Note { Id = Guid.NewGuid(), Text = "never committed" };
        var rolledBack = IntegrationEvent.Create(EventTypes.TaskCreated, source, new { NoteId = note.Id });
        var committed = IntegrationEvent.Create(EventTypes.TaskCreated, source, new { NoteId = Guid.NewGuid() });

        await using (var db = NewContext())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.Notes.Add(note);
            db.AddEvent(rolledBack);
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }
        await using (var db = NewContext())
        {
            db.AddEvent(committed);
            await db.SaveChangesAsync();
        }

        await tap.WaitForAsync(committed.Id, Patience);
        Assert.Empty(tap.Of(rolledBack.Id));
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM notes WHERE id = $1", note.Id));
    }

    [Fact]
    public async Task A_SaveChanges_that_fails_writes_no_event()
    {
        var id = Guid.NewGuid();
        await using (var db = NewContext())
        {
            db.Notes.Add(new Note { Id = id, Text = "first" });
            await db.SaveChangesAsync();
        }
        var duplicate = IntegrationEvent.Create(EventTypes.TaskCreated, source, new { NoteId = id });

        await using (var db = NewContext())
        {
            db.Notes.Add(new Note { Id = id, Text = "same id again" });
            db.AddEvent(duplicate);
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }

        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE id = $1", duplicate.Id));
    }

    [Fact]
    public async Task The_outbox_table_is_left_out_of_EF_migrations()
    {
        await using var db = NewContext();

        var createScript = db.Database.GenerateCreateScript();

        Assert.Contains("CREATE TABLE notes", createScript, StringComparison.Ordinal);
        Assert.DoesNotContain("outbox", createScript, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddEvent_on_a_context_without_the_outbox_says_what_to_call()
    {
        await using var db = new ContextWithoutOutbox(new DbContextOptionsBuilder<ContextWithoutOutbox>().UseNpgsql(database.DataSource).Options);

        var error = Assert.Throws<InvalidOperationException>(() => db.AddEvent(IntegrationEvent.Create(EventTypes.TaskCreated, source, new { })));

        Assert.Contains("AddOutbox()", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The recipe <see cref="IIntegrationEventHandler"/> gives EF Core handlers: their writes join the consumer's transaction.</summary>
    [Fact]
    public async Task An_EF_context_joined_to_a_handlers_transaction_commits_and_rolls_back_with_it()
    {
        var rolledBack = new Note { Id = Guid.NewGuid(), Text = "rolled back with the handler's transaction" };
        var committed = new Note { Id = Guid.NewGuid(), Text = "committed with the handler's transaction" };

        foreach (var (note, commit) in new[] { (rolledBack, false), (committed, true) })
        {
            await using var connection = await database.DataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using var db = NewContext();
            db.Database.SetDbConnection(connection);
            await db.Database.UseTransactionAsync(transaction);
            db.Notes.Add(note);
            await db.SaveChangesAsync();
            await (commit ? transaction.CommitAsync() : transaction.RollbackAsync());
        }

        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM notes WHERE id = $1", rolledBack.Id));
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM notes WHERE id = $1", committed.Id));
    }

    private NotesContext NewContext() => new(new DbContextOptionsBuilder<NotesContext>().UseNpgsql(database.DataSource).Options);
}
