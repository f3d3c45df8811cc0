using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Data.Retention;
using Platform.Files.Storage;
using Platform.Testing;
using RabbitMQ.Client;

namespace Platform.Files.Tests;

[Collection(FilesTierCollection.Name)]
public sealed class EventsTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(60);
    private readonly string tapQueue = "files-tests." + Guid.NewGuid().ToString("N");
    private FilesPlatform platform = null!;
    private IConnection broker = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_events");
        broker = await new ConnectionFactory { Uri = new Uri(fixture.Tier.RabbitMqUri) }.CreateConnectionAsync();
        await using var channel = await broker.CreateChannelAsync();
        await EventTopology.DeclareExchangesAsync(channel, CancellationToken.None);
        await channel.QueueDeclareAsync(tapQueue, durable: false, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(tapQueue, EventTopology.Exchange, "file.*");
    }

    public async Task DisposeAsync()
    {
        await using (var channel = await broker.CreateChannelAsync())
        {
            await channel.QueueDeleteAsync(tapQueue);
        }
        await broker.DisposeAsync();
        await platform.DisposeAsync();
    }

    [Fact]
    public async Task An_upload_emits_file_uploaded_and_a_deletion_file_deleted()
    {
        using var user = await platform.NewUserAsync();
        var file = await user.UploadOkAsync([1, 2, 3], "evented.txt");
        using var deleted = await user.DeleteAsync($"/api/files/{file.Id}");

        var events = await ReceiveUntilAsync(e => e.Type == EventTypes.FileDeleted && e.Data.GetProperty("fileId").GetGuid() == file.Id);

        var uploaded = Assert.Single(events, e => e.Type == EventTypes.FileUploaded && e.Data.GetProperty("fileId").GetGuid() == file.Id);
        Assert.Equal("files", uploaded.Source);
        Assert.Equal(user.UserId, uploaded.Data.GetProperty("userId").GetGuid());
        Assert.Equal(file.Sha256, uploaded.Data.GetProperty("sha256").GetString());
        Assert.Equal(3, uploaded.Data.GetProperty("size").GetInt64());
        Assert.Equal(file.CreatedAt, uploaded.Data.GetProperty("createdAt").GetDateTimeOffset()); // clients list it without a fetch
        Assert.Equal(user.UserId, Assert.Single(events, e => e.Type == EventTypes.FileDeleted).Data.GetProperty("userId").GetGuid());
    }

    [Fact]
    public async Task A_rejected_upload_emits_nothing()
    {
        using var user = await platform.NewUserAsync();
        using var rejected = await user.SendAsync(HttpMethod.Post, "/api/files", new MultipartFormDataContent { { new StringContent("x"), "note" } });
        var marker = await user.UploadOkAsync([1], "marker.txt");

        var events = await ReceiveUntilAsync(e => e.Data.GetProperty("fileId").GetGuid() == marker.Id);

        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Single(events, e => e.Data.GetProperty("userId").GetGuid() == user.UserId);
    }

    [Fact]
    public async Task Deleting_the_account_at_auth_purges_the_users_files_and_content_and_nobody_elses()
    {
        using var leaving = await platform.NewUserAsync();
        using var staying = await platform.NewUserAsync();
        await leaving.UploadOkAsync(GeneratedContentStream.Bytes(1_500_000), "many-chunks.bin");
        await leaving.UploadOkAsync([1], "small.bin");
        var kept = await staying.UploadOkAsync([2], "kept.bin");
        Assert.Equal((2L, (1_500_000L + FileUploader.ChunkSize - 1) / FileUploader.ChunkSize + 1), await platform.StoredRowsAsync(leaving.UserId));

        using var deleted = await leaving.DeleteAccountAsync();

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Poll.UntilAsync(async () => await platform.StoredRowsAsync(leaving.UserId) == (0, 0), EventTimeout, "the leaving user's files and chunks to be purged");
        Assert.Equal([kept.Id], (await staying.ListAllAsync()).Select(f => f.Id));
    }

    [Fact]
    public async Task A_redelivered_user_deleted_is_handled_once_and_harms_nothing()
    {
        using var leaving = await platform.NewUserAsync();
        using var staying = await platform.NewUserAsync();
        await leaving.UploadOkAsync([1], "gone.bin");
        var kept = await staying.UploadOkAsync([2], "kept.bin");
        var userDeleted = IntegrationEvent.Create(EventTypes.UserDeleted, "auth", new { userId = leaving.UserId });

        await PublishAsync(userDeleted);
        await Poll.UntilAsync(async () => await platform.StoredRowsAsync(leaving.UserId) == (0, 0), EventTimeout, "the first delivery to purge");
        await PublishAsync(userDeleted);
        using var sentinel = await platform.NewUserAsync();
        await sentinel.UploadOkAsync([3], "sentinel.bin");
        await PublishAsync(IntegrationEvent.Create(EventTypes.UserDeleted, "auth", new { userId = sentinel.UserId }));
        await Poll.UntilAsync(async () => await platform.StoredRowsAsync(sentinel.UserId) == (0, 0), EventTimeout, "an event published after the duplicate to be handled");

        Assert.Equal(1, await ProcessedCountAsync(userDeleted.Id));
        Assert.Equal([kept.Id], (await staying.ListAllAsync()).Select(f => f.Id));
        using var ready = await staying.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task An_upload_by_a_user_already_purged_is_refused_and_leaves_nothing()
    {
        using var purged = await platform.NewUserAsync();
        await PublishAsync(IntegrationEvent.Create(EventTypes.UserDeleted, "auth", new { userId = purged.UserId }));
        await Poll.UntilAsync(async () => await DeletedOwnerAsync(purged.UserId), EventTimeout, "the purge to be recorded");

        // The token is still valid here because the event was published by the test, not by auth.
        using var response = await purged.UploadRawAsync(new ByteArrayContent([1, 2]), "late.bin");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal((0L, 0L), await platform.StoredRowsAsync(purged.UserId));
    }

    [Fact]
    public async Task Retention_removes_tombstones_past_their_horizon_and_one_inside_it_still_refuses_uploads()
    {
        using var purged = await platform.NewUserAsync();
        await PublishAsync(IntegrationEvent.Create(EventTypes.UserDeleted, "auth", new { userId = purged.UserId }));
        await Poll.UntilAsync(async () => await DeletedOwnerAsync(purged.UserId), EventTimeout, "the purge to be recorded");
        var longGone = Guid.NewGuid();
        await ScalarAsync("INSERT INTO deleted_owners (owner, deleted_at) VALUES ($1, now() - interval '31 days')", longGone);
        await ScalarAsync("UPDATE deleted_owners SET deleted_at = now() - interval '29 days' WHERE owner = $1", purged.UserId);

        var passes = await platform.Files.Services.GetRequiredService<RetentionRunner>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, Assert.Single(passes, p => p.Table == "deleted_owners").RowsRemoved);
        Assert.False(await DeletedOwnerAsync(longGone));
        using var response = await purged.UploadRawAsync(new ByteArrayContent([1, 2]), "late.bin");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal((0L, 0L), await platform.StoredRowsAsync(purged.UserId));
    }

    private async Task PublishAsync(IntegrationEvent integrationEvent)
    {
        await using var channel = await broker.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent, ContentType = "application/json", MessageId = integrationEvent.Id.ToString() };
        await channel.BasicPublishAsync(EventTopology.Exchange, integrationEvent.Type, mandatory: true, properties, IntegrationEventJson.Serialize(integrationEvent));
    }

    private async Task<long> ProcessedCountAsync(Guid eventId) =>
        (long)(await ScalarAsync("SELECT count(*) FROM processed_events WHERE event_id = $1", eventId))!;

    private async Task<bool> DeletedOwnerAsync(Guid owner) =>
        (bool)(await ScalarAsync("SELECT EXISTS (SELECT 1 FROM deleted_owners WHERE owner = $1)", owner))!;

    private async Task<object?> ScalarAsync(string sql, Guid parameter)
    {
        await using var connection = new NpgsqlConnection(platform.Files.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = parameter } } };
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Takes messages off the tap queue until one matches; returns every message taken.</summary>
    private async Task<List<IntegrationEvent>> ReceiveUntilAsync(Func<IntegrationEvent, bool> wanted)
    {
        var received = new List<IntegrationEvent>();
        await Poll.UntilAsync(async () =>
        {
            await using var channel = await broker.CreateChannelAsync();
            while (await channel.BasicGetAsync(tapQueue, autoAck: true) is { } message)
            {
                Assert.True(IntegrationEventJson.TryParse(message.Body.Span, out var parsed, out var error), error);
                received.Add(parsed!);
            }
            return received.Any(wanted);
        }, EventTimeout, "the event to arrive");
        return received;
    }
}
