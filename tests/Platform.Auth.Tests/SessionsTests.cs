using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Testing;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class SessionsTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private AuthHost host = null!;
    private AuthApiClient api = null!;
    private OtherService other = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_sessions", overrides: new Dictionary<string, string?> { ["Tokens:MaxSessionsPerUser"] = "3" });
        api = new AuthApiClient(host.CreateRealClient());
        other = await OtherService.StartAsync(fixture.Tier, host);
    }

    public async Task DisposeAsync()
    {
        await other.DisposeAsync();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Me_answers_the_callers_account()
    {
        var (email, tokens) = await api.NewUserAsync();

        using var me = await api.SendAsync(HttpMethod.Get, "/api/auth/me", tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Equal(email, (await me.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("email").GetString());
    }

    [Theory]
    [InlineData("GET", "/api/auth/me")]
    [InlineData("GET", "/api/auth/sessions")]
    [InlineData("POST", "/api/auth/logout")]
    [InlineData("DELETE", "/api/auth/sessions")]
    [InlineData("DELETE", "/api/auth/account")]
    public async Task Bearer_routes_refuse_a_missing_or_garbage_token(string method, string path)
    {
        using var missing = await api.SendAsync(new HttpMethod(method), path, accessToken: null);
        using var garbage = await api.SendAsync(new HttpMethod(method), path, "not.a.jwt");

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Logout_is_refused_within_a_second_at_auth_and_at_another_service()
    {
        var (_, tokens) = await api.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, await other.WhoAmIAsync(tokens.AccessToken));

        using var logout = await api.SendAsync(HttpMethod.Post, "/api/auth/logout", tokens.AccessToken);
        var loggedOutAt = Stopwatch.StartNew();

        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        await Poll.UntilAsync(async () => await other.WhoAmIAsync(tokens.AccessToken) == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(1), "the other service to refuse the logged-out token");
        Assert.True(loggedOutAt.Elapsed < TimeSpan.FromSeconds(1));
        using var me = await api.SendAsync(HttpMethod.Get, "/api/auth/me", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        using var refresh = await api.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
    }

    [Fact]
    public async Task Sessions_are_listed_and_one_can_be_revoked_from_another()
    {
        var (email, first) = await api.NewUserAsync();
        var second = await api.LoginOkAsync(email);
        var firstSession = new JsonWebToken(first.AccessToken).GetClaim("sid").Value;

        using var listed = await api.SendAsync(HttpMethod.Get, "/api/auth/sessions", second.AccessToken);
        var items = (await listed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.Single(items, s => s.GetProperty("current").GetBoolean());

        using var revoked = await api.SendAsync(HttpMethod.Delete, $"/api/auth/sessions/{firstSession}", second.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await Poll.UntilAsync(async () => await other.WhoAmIAsync(first.AccessToken) == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(1), "the revoked session's token to be refused elsewhere");
        Assert.Equal(HttpStatusCode.OK, await other.WhoAmIAsync(second.AccessToken));
    }

    [Fact]
    public async Task Another_users_session_cannot_be_revoked()
    {
        var (_, victim) = await api.NewUserAsync();
        var (_, attacker) = await api.NewUserAsync();
        var victimSession = new JsonWebToken(victim.AccessToken).GetClaim("sid").Value;

        using var attempt = await api.SendAsync(HttpMethod.Delete, $"/api/auth/sessions/{victimSession}", attacker.AccessToken);
        using var malformed = await api.SendAsync(HttpMethod.Delete, "/api/auth/sessions/not-a-uuid", attacker.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, attempt.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await other.WhoAmIAsync(victim.AccessToken));
    }

    [Fact]
    public async Task Revoking_all_others_keeps_only_the_current_session()
    {
        var (email, first) = await api.NewUserAsync();
        var second = await api.LoginOkAsync(email);
        var current = await api.LoginOkAsync(email);

        using var revoked = await api.SendAsync(HttpMethod.Delete, "/api/auth/sessions", current.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await Poll.UntilAsync(async () => await other.WhoAmIAsync(first.AccessToken) == HttpStatusCode.Unauthorized
            && await other.WhoAmIAsync(second.AccessToken) == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(1), "the other sessions to be refused");
        Assert.Equal(HttpStatusCode.OK, await other.WhoAmIAsync(current.AccessToken));
    }

    [Fact]
    public async Task A_session_beyond_the_per_user_cap_evicts_the_oldest()
    {
        var (email, oldest) = await api.NewUserAsync();
        var logins = new List<Tokens>();
        for (var i = 0; i < 3; i++)
        {
            logins.Add(await api.LoginOkAsync(email));
        }

        await Poll.UntilAsync(async () => await other.WhoAmIAsync(oldest.AccessToken) == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(1), "the oldest session to be evicted");
        foreach (var login in logins)
        {
            Assert.Equal(HttpStatusCode.OK, await other.WhoAmIAsync(login.AccessToken));
        }
        using var listed = await api.SendAsync(HttpMethod.Get, "/api/auth/sessions", logins[^1].AccessToken);
        Assert.Equal(3, (await listed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").GetArrayLength());
    }
}
