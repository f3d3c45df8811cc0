using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Auth.Data;

namespace Platform.Auth.Tests;

/// <summary>Deleting an account needs a session a password started recently; a refresh keeps a session alive, never recent.</summary>
[Collection(AuthTierCollection.Name)]
public sealed class RecentLoginTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private AuthHost host = null!;
    private AuthApiClient api = null!;
    private AdminClient admin = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_recent_login");
        api = new AuthApiClient(host.CreateRealClient());
        admin = new AdminClient(host, api);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_session_logged_in_longer_ago_than_the_window_cannot_delete_the_account_even_after_a_refresh()
    {
        var (email, tokens) = await api.NewUserAsync();
        await StartedMinutesAgoAsync(tokens, 11);
        using var refreshed = await api.RefreshAsync(tokens.RefreshToken);
        var current = (await refreshed.Content.ReadFromJsonAsync<Tokens>())!;

        using var stale = await api.SendAsync(HttpMethod.Delete, "/api/auth/account", current.AccessToken);

        await AuthApiClient.ProblemAsync(stale, HttpStatusCode.Unauthorized, AuthProblems.ReauthenticationRequiredType);
        var challenge = stale.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("error=\"insufficient_user_authentication\"", challenge.Parameter, StringComparison.Ordinal);
        Assert.Contains("max_age=600", challenge.Parameter, StringComparison.Ordinal);
        using (var me = await api.SendAsync(HttpMethod.Get, "/api/auth/me", current.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode); // refused the deletion, not the session
        }

        var again = await api.LoginOkAsync(email);
        using var deleted = await api.SendAsync(HttpMethod.Delete, "/api/auth/account", again.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task An_admin_whose_login_is_not_recent_cannot_delete_a_user()
    {
        var boss = await admin.NewAdminAsync();
        var user = await admin.NewUserAsync();
        await StartedMinutesAgoAsync(boss.Tokens, 11);

        using var stale = await admin.SendAsync(HttpMethod.Delete, $"/api/admin/users/{user.Id}", boss.Tokens);

        await AuthApiClient.ProblemAsync(stale, HttpStatusCode.Unauthorized, AuthProblems.ReauthenticationRequiredType);
        await admin.OkAsync(HttpMethod.Get, $"/api/admin/users/{user.Id}", boss.Tokens);
    }

    private async Task StartedMinutesAgoAsync(Tokens tokens, int minutes)
    {
        var sessionId = AdminClient.SessionIdOf(tokens);
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        var started = DateTimeOffset.UtcNow.AddMinutes(-minutes);
        Assert.Equal(1, await db.Sessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(set => set.SetProperty(s => s.CreatedAt, started)));
    }
}
