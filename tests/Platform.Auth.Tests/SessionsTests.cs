using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Authentication;
using Platform.Testing;
using StackExchange.Redis;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class SessionsTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private AuthHost host = null!;
    private AuthApiClient api = null!;
    private OtherService other = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_sessions", overrides: new Dictionary<string, string?> { ["Tokens:MaxSessionsPerUser"] = "3", ["Tokens:RevocationReassertSeconds"] = "1" });
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
    [InlineData("POST", "/api/auth/sessions/current/activity")]
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

    /// <summary>
    /// The cascade takes a deleted account's session rows, which the revocation propagator re-publishes from when Redis
    /// did not take a revocation: a service that starts after Redis is back must still refuse the account's token.
    /// </summary>
    [Fact]
    public async Task A_deleted_accounts_token_is_refused_everywhere_though_redis_was_down_at_the_deletion()
    {
        var (_, tokens) = await api.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, await other.WhoAmIAsync(tokens.AccessToken));

        await fixture.Tier.DownAsync(Platform.Testing.DataTier.Redis);
        try
        {
            using var deleted = await api.SendAsync(HttpMethod.Delete, "/api/auth/account", tokens.AccessToken);
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        finally
        {
            await fixture.Tier.UpAsync(Platform.Testing.DataTier.Redis);
        }

        await using var started = await OtherService.StartAsync(fixture.Tier, host);
        await Poll.UntilAsync(async () => await started.WhoAmIAsync(tokens.AccessToken) == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(20), "a service started after the outage to refuse the deleted account's token");
    }

    /// <summary>
    /// A service that starts while Redis is down cannot read the revocations there: it fetches them from auth's
    /// database. Before, its set was empty and it accepted a logged-out session's token until Redis came back.
    /// </summary>
    [Fact]
    public async Task A_service_started_while_redis_is_down_refuses_a_session_revoked_before()
    {
        var (_, tokens) = await api.NewUserAsync();
        using (var logout = await api.SendAsync(HttpMethod.Post, "/api/auth/logout", tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }
        await fixture.Tier.DownAsync(Platform.Testing.DataTier.Redis);
        try
        {
            await using var started = await OtherService.StartAsync(fixture.Tier, host);

            Assert.Equal(HttpStatusCode.Unauthorized, await started.WhoAmIAsync(tokens.AccessToken));
        }
        finally
        {
            await fixture.Tier.UpAsync(Platform.Testing.DataTier.Redis);
        }
    }

    /// <summary>A revocation made while Redis is down reaches no subscriber; a running service fetches it from auth within seconds.</summary>
    [Fact]
    public async Task A_running_service_refuses_a_session_revoked_while_redis_is_down()
    {
        var (_, tokens) = await api.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, await other.WhoAmIAsync(tokens.AccessToken));
        await fixture.Tier.DownAsync(Platform.Testing.DataTier.Redis);
        try
        {
            using (var logout = await api.SendAsync(HttpMethod.Post, "/api/auth/logout", tokens.AccessToken))
            {
                Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
            }

            await Poll.UntilAsync(async () => await other.WhoAmIAsync(tokens.AccessToken) == HttpStatusCode.Unauthorized,
                TimeSpan.FromSeconds(20), "the running service to refuse the session revoked during the outage");
        }
        finally
        {
            await fixture.Tier.UpAsync(Platform.Testing.DataTier.Redis);
        }
    }

    /// <summary>
    /// What validators fetch while Redis is away: the whole list with the time auth read it, then with <c>?since=</c>
    /// only what was revoked after — so polling through an outage costs what is new, not every recent revocation again.
    /// </summary>
    [Fact]
    public async Task The_revocation_list_answers_only_what_was_revoked_since_the_time_asked()
    {
        var (_, first) = await api.NewUserAsync();
        var (_, second) = await api.NewUserAsync();
        (await api.SendAsync(HttpMethod.Post, "/api/auth/logout", first.AccessToken)).Dispose();
        var all = await Poll.UntilAsync(() => api.Http.GetFromJsonAsync<RevocationList>(RevocationList.Path)!,
            list => list!.Revocations.Any(r => r.SessionId == AdminClient.SessionIdOf(first)), TimeSpan.FromSeconds(10), "the first logout to be listed");

        (await api.SendAsync(HttpMethod.Post, "/api/auth/logout", second.AccessToken)).Dispose();
        var since = $"{RevocationList.Path}?since={Uri.EscapeDataString(all!.AsOf!.Value.ToString("O", CultureInfo.InvariantCulture))}";
        var newer = await Poll.UntilAsync(() => api.Http.GetFromJsonAsync<RevocationList>(since)!,
            list => list!.Revocations.Any(r => r.SessionId == AdminClient.SessionIdOf(second)), TimeSpan.FromSeconds(10), "the second logout to be listed");

        Assert.DoesNotContain(newer!.Revocations, r => r.SessionId == AdminClient.SessionIdOf(first));
        Assert.True(newer.AsOf > all.AsOf);
        var future = await api.Http.GetFromJsonAsync<RevocationList>($"{RevocationList.Path}?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O", CultureInfo.InvariantCulture))}");
        Assert.Empty(future!.Revocations);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("")]
    public async Task A_since_that_is_not_a_time_is_a_validation_problem(string since)
    {
        using var answer = await api.Http.GetAsync($"{RevocationList.Path}?since={Uri.EscapeDataString(since)}");

        var problem = await AuthApiClient.ProblemAsync(answer, HttpStatusCode.BadRequest, Platform.Hosting.Problems.ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty("since", out _));
    }

    /// <summary>
    /// A Redis that hangs (here SIGSTOP) keeps its connections open: the client does not call it lost for a minute or
    /// more, and no revocation message arrives meanwhile. A running service notices that Redis stops answering its
    /// probe and fetches the revocations from auth; before, it accepted the logged-out token until the client gave up.
    /// </summary>
    [Fact]
    public async Task A_running_service_refuses_a_session_revoked_while_redis_hangs()
    {
        var (_, tokens) = await api.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, await other.WhoAmIAsync(tokens.AccessToken));
        using (DataTierProcesses.Freeze(fixture.Tier, Platform.Testing.DataTier.Redis, "redis-server"))
        {
            using (var logout = await api.SendAsync(HttpMethod.Post, "/api/auth/logout", tokens.AccessToken))
            {
                Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
            }

            await Poll.UntilAsync(async () => await other.WhoAmIAsync(tokens.AccessToken) == HttpStatusCode.Unauthorized,
                TimeSpan.FromSeconds(20), "the running service to refuse the session revoked while Redis hangs");
        }
        await RedisReadiness.UntilAsync(api.Http, healthy: true);
    }

    /// <summary>
    /// A revocation's key is written once and read only when a validator starts, so Redis under memory pressure may
    /// evict it (volatile-lru), or come back empty: auth writes the missing keys of recent revocations again, and a
    /// service started afterwards still refuses the logged-out token. Before, it accepted it until it expired.
    /// </summary>
    [Fact]
    public async Task A_revocation_redis_lost_is_written_again_so_a_service_started_later_refuses_the_token()
    {
        var (_, tokens) = await api.NewUserAsync();
        var sessionId = new JsonWebToken(tokens.AccessToken).GetClaim("sid").Value;
        using var logout = await api.SendAsync(HttpMethod.Post, "/api/auth/logout", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Tier.RedisConnectionString);
        var key = new RedisKey($"revoked:session:{sessionId}");
        Assert.True(await redis.GetDatabase().KeyDeleteAsync(key), "the logout wrote the revocation's key");

        await Poll.UntilAsync(() => redis.GetDatabase().KeyExistsAsync(key), TimeSpan.FromSeconds(15), "auth to write the lost revocation again");
        Assert.InRange((await redis.GetDatabase().KeyTimeToLiveAsync(key))!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(11));
        await using var started = await OtherService.StartAsync(fixture.Tier, host);
        Assert.Equal(HttpStatusCode.Unauthorized, await started.WhoAmIAsync(tokens.AccessToken));
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
    public async Task A_session_beyond_the_per_user_cap_evicts_the_least_recently_active_not_the_oldest()
    {
        var (email, oldest) = await api.NewUserAsync();
        var idle = await api.LoginOkAsync(email);
        var newest = await api.LoginOkAsync(email);
        using var refreshed = await api.RefreshAsync(oldest.RefreshToken); // the oldest is now the most recently active
        var oldestRefreshed = (await refreshed.Content.ReadFromJsonAsync<Tokens>())!;

        var beyondCap = await api.LoginOkAsync(email);

        await Poll.UntilAsync(async () => await other.WhoAmIAsync(idle.AccessToken) == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(1), "the least recently active session to be evicted");
        foreach (var kept in new[] { oldestRefreshed, newest, beyondCap })
        {
            Assert.Equal(HttpStatusCode.OK, await other.WhoAmIAsync(kept.AccessToken));
        }
        using var listed = await api.SendAsync(HttpMethod.Get, "/api/auth/sessions", beyondCap.AccessToken);
        var items = (await listed.Content.ReadFromJsonAsync<SessionList>())!.Items;
        Assert.Equal([SessionOf(beyondCap), SessionOf(oldestRefreshed), SessionOf(newest)], items.Select(s => s.Id));
    }

    [Fact]
    public async Task A_session_shows_the_device_and_address_it_was_started_from()
    {
        var email = AuthApiClient.NewEmail();
        (await api.RegisterAsync(email)).Dispose();
        using var login = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login")
        {
            Content = JsonContent.Create(new { email, password = AuthApiClient.GoodPassword }),
        };
        login.Headers.UserAgent.ParseAdd("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0");
        login.Headers.Add("X-Forwarded-For", "203.0.113.7"); // the test client is on loopback, which is a trusted proxy
        using var loggedIn = await api.Http.SendAsync(login);
        var tokens = (await loggedIn.Content.ReadFromJsonAsync<Tokens>())!;

        using var listed = await api.SendAsync(HttpMethod.Get, "/api/auth/sessions", tokens.AccessToken);

        var session = Assert.Single((await listed.Content.ReadFromJsonAsync<SessionList>())!.Items);
        Assert.Equal("Firefox on Linux", session.Device);
        Assert.Equal("203.0.113.7", session.IpAddress);
        Assert.True(session.Current);
        Assert.Equal(session.CreatedAt, session.LastActivityAt);
        Assert.Equal(session.CreatedAt.AddMinutes(30), session.ExpiresAt);
        Assert.Equal(session.CreatedAt.AddDays(7), session.AbsoluteExpiresAt);
        var raw = await listed.Content.ReadAsStringAsync();
        Assert.DoesNotContain("Gecko", raw, StringComparison.Ordinal);
    }

    private static Guid SessionOf(Tokens tokens) => Guid.Parse(new JsonWebToken(tokens.AccessToken).GetClaim("sid").Value);
}
