using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Testing;
using RabbitMQ.Client;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class AccountEventsTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private readonly string queue = "auth-tests." + Guid.NewGuid().ToString("N");
    private AuthHost host = null!;
    private AuthApiClient api = null!;
    private IConnection broker = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_events");
        api = new AuthApiClient(host.CreateRealClient());
        broker = await new ConnectionFactory { Uri = new Uri(fixture.Tier.RabbitMqUri), AutomaticRecoveryEnabled = true, NetworkRecoveryInterval = TimeSpan.FromSeconds(1) }.CreateConnectionAsync();
        await using var channel = await broker.CreateChannelAsync();
        await EventTopology.DeclareExchangesAsync(channel, CancellationToken.None);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, EventTopology.Exchange, EventTypes.UserRegistered);
        await channel.QueueBindAsync(queue, EventTopology.Exchange, EventTypes.UserDeleted);
    }

    public async Task DisposeAsync()
    {
        await fixture.Tier.UpAsync(DataTier.RabbitMq);
        await using (var channel = await broker.CreateChannelAsync())
        {
            await channel.QueueDeleteAsync(queue);
        }
        await broker.DisposeAsync();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Registration_emits_user_registered()
    {
        using var registered = await api.RegisterAsync(AuthApiClient.NewEmail());
        var userId = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var events = await ReceiveUntilAsync(e => e.Type == EventTypes.UserRegistered && e.Data.GetProperty("userId").GetString() == userId);

        var registeredEvent = Assert.Single(events, e => e.Data.GetProperty("userId").GetString() == userId);
        Assert.Equal("auth", registeredEvent.Source);
    }

    [Fact]
    public async Task Registration_succeeds_while_the_broker_is_down_and_the_event_arrives_once_it_is_back()
    {
        await fixture.Tier.DownAsync(DataTier.RabbitMq);

        using var registered = await api.RegisterAsync(AuthApiClient.NewEmail());
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var userId = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        await fixture.Tier.UpAsync(DataTier.RabbitMq);
        var events = await ReceiveUntilAsync(e => e.Data.GetProperty("userId").GetString() == userId);
        Assert.Single(events, e => e.Type == EventTypes.UserRegistered && e.Data.GetProperty("userId").GetString() == userId);
    }

    [Fact]
    public async Task Deleting_the_account_emits_user_deleted_ends_its_sessions_and_its_login()
    {
        var (email, tokens) = await api.NewUserAsync();
        await using var other = await OtherService.StartAsync(fixture.Tier, host);
        using var me = await api.SendAsync(HttpMethod.Get, "/api/auth/me", tokens.AccessToken);
        var userId = (await me.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        using var deleted = await api.SendAsync(HttpMethod.Delete, "/api/auth/account", tokens.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Poll.UntilAsync(async () => await other.WhoAmIAsync(tokens.AccessToken) == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(1), "the deleted account's token to be refused elsewhere");
        using var login = await api.LoginAsync(email);
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        var events = await ReceiveUntilAsync(e => e.Type == EventTypes.UserDeleted && e.Data.GetProperty("userId").GetString() == userId);
        Assert.Single(events, e => e.Type == EventTypes.UserDeleted);
    }

    /// <summary>Takes messages off the test queue until one matches; returns every message taken.</summary>
    private async Task<List<IntegrationEvent>> ReceiveUntilAsync(Func<IntegrationEvent, bool> wanted)
    {
        var received = new List<IntegrationEvent>();
        await Poll.UntilAsync(async () =>
        {
            await using var channel = await broker.CreateChannelAsync();
            while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
            {
                Assert.True(IntegrationEventJson.TryParse(message.Body.Span, out var parsed, out var error), error);
                received.Add(parsed!);
            }
            return received.Any(wanted);
        }, TimeSpan.FromSeconds(60), "the event to arrive");
        return received;
    }
}
