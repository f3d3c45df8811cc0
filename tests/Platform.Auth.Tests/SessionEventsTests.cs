using System.Net;
using Microsoft.Extensions.Time.Testing;
using Platform.Contracts.Events;

namespace Platform.Auth.Tests;

/// <summary>Session and account lifecycle events, as a consumer of the events exchange receives them: each action once.</summary>
[Collection(AuthTierCollection.Name)]
public sealed class SessionEventsTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private static readonly string[] JustUser = ["user"];
    private static readonly string[] AdminRole = ["admin"];
    private AuthHost host = null!;
    private AdminClient admin = null!;
    private EventQueue events = null!;

    public async Task InitializeAsync()
    {
        events = await EventQueue.StartAsync(fixture.Tier);
        host = await AuthHost.StartAsync(fixture.Tier, "auth_session_events");
        admin = new AdminClient(host, new AuthApiClient(host.CreateRealClient()));
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await events.DisposeAsync();
    }

    [Fact]
    public async Task Login_refresh_revocation_and_logout_each_emit_their_events_once_without_secrets()
    {
        var first = await admin.NewUserAsync();
        using var refreshed = await admin.Api.RefreshAsync(first.Tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var second = await admin.Api.LoginOkAsync(first.Email);
        using (var revokeOthers = await admin.Api.SendAsync(HttpMethod.Delete, "/api/auth/sessions", second.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, revokeOthers.StatusCode);
        }
        using (var logout = await admin.Api.SendAsync(HttpMethod.Post, "/api/auth/logout", second.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }

        var expected = new Dictionary<string, int>
        {
            [EventTypes.UserRegistered] = 1,
            [EventTypes.UserLogin] = 2,
            [EventTypes.SessionCreated] = 2,
            [EventTypes.TokenRefreshed] = 1,
            [EventTypes.SessionsBulkTerminated] = 1,
            [EventTypes.UserLogout] = 1,
            [EventTypes.SessionTerminated] = 1,
        };
        var received = await events.SettledAboutAsync(first.Id, got => expected.All(e => got.Count(g => g.Type == e.Key) >= e.Value));

        Assert.Equal(expected.OrderBy(e => e.Key), received.GroupBy(e => e.Type).Select(g => KeyValuePair.Create(g.Key, g.Count())).OrderBy(e => e.Key));
        var firstSession = Assert.Single(received, e => e.Type == EventTypes.SessionsBulkTerminated).Data.GetProperty("sessionIds")[0].GetGuid();
        Assert.Equal(firstSession, received.First(e => e.Type == EventTypes.TokenRefreshed).Data.GetProperty("sessionId").GetGuid());
        Assert.Equal("logout", Assert.Single(received, e => e.Type == EventTypes.SessionTerminated).Data.GetProperty("reason").GetString());
        foreach (var secret in new[] { first.Tokens.AccessToken, first.Tokens.RefreshToken, second.AccessToken, second.RefreshToken, AuthApiClient.GoodPassword })
        {
            Assert.All(received, e => Assert.DoesNotContain(secret, e.Data.GetRawText(), StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Admin_actions_emit_their_events_and_an_audit_event_once_each()
    {
        var boss = await admin.NewAdminAsync();
        var user = await admin.NewUserAsync();

        await admin.OkAsync(HttpMethod.Put, $"/api/admin/users/{user.Id}/roles", boss.Tokens, new { roles = AdminRole });
        await admin.OkAsync(HttpMethod.Put, $"/api/admin/users/{user.Id}/roles", boss.Tokens, new { roles = JustUser });
        await admin.Api.LoginOkAsync(user.Email);
        await admin.NoContentAsync(HttpMethod.Post, $"/api/admin/users/{user.Id}/disable", boss.Tokens);

        var expected = new Dictionary<string, int>
        {
            [EventTypes.UserRoleChanged] = 2,
            [EventTypes.UserDisabled] = 1,
            [EventTypes.AdminAction] = 3,
            [EventTypes.SessionsBulkTerminated] = 2, // the demotion's and the disabling's
        };
        var received = await events.SettledAboutAsync(user.Id, got => expected.All(e => got.Count(g => g.Type == e.Key) >= e.Value));

        foreach (var (type, count) in expected)
        {
            Assert.Equal(count, received.Count(e => e.Type == type));
        }
        Assert.All(received.Where(e => e.Type == EventTypes.AdminAction), e => Assert.Equal(boss.Id, e.Data.GetProperty("actorId").GetGuid()));
        Assert.Equal(boss.Id, Assert.Single(received, e => e.Type == EventTypes.UserDisabled).Data.GetProperty("actorId").GetGuid());
        Assert.Equal(["disabled", "roles-changed"],
            received.Where(e => e.Type == EventTypes.SessionsBulkTerminated).Select(e => e.Data.GetProperty("reason").GetString()).Order());
    }

    [Fact]
    public async Task A_session_closed_by_the_cleanup_job_emits_session_expired_once()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        await using var clocked = await AuthHost.StartAsync(fixture.Tier, "auth_session_expiry", clock: clock);
        var api = new AuthApiClient(clocked.CreateRealClient());
        var (_, tokens) = await api.NewUserAsync();
        var userId = AdminClient.UserIdOf(tokens);

        clock.Advance(TimeSpan.FromMinutes(31)); // past the 30-minute idle timeout; the cleanup job's timer fires

        var received = await events.SettledAboutAsync(userId, got => got.Any(e => e.Type == EventTypes.SessionExpired));
        var expired = Assert.Single(received, e => e.Type == EventTypes.SessionExpired);
        Assert.Equal("idle-timeout", expired.Data.GetProperty("reason").GetString());
    }
}
