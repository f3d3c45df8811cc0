using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Hosting.Problems;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>
/// Idle timeout and absolute lifetime, on a clock the test moves: a session lives while it is used, never past its
/// absolute end, and a refresh after either limit says so distinctly and closes the session.
/// </summary>
[Collection(AuthTierCollection.Name)]
public sealed class SessionLifetimeTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan Absolute = TimeSpan.FromHours(2);

    // Whole seconds: PostgreSQL keeps microseconds, so a stored time then equals the clock's exactly.
    private readonly FakeTimeProvider clock = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    private AuthHost host = null!;
    private AuthApiClient api = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_lifetimes", overrides: new Dictionary<string, string?>
        {
            ["Sessions:IdleTimeout"] = Idle.ToString(),
            ["Sessions:AbsoluteLifetime"] = Absolute.ToString(),
        }, clock: clock);
        api = new AuthApiClient(host.CreateRealClient());
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Refreshes_within_the_idle_timeout_keep_a_session_alive_well_past_it()
    {
        var (_, tokens) = await api.NewUserAsync();

        for (var i = 0; i < 3; i++)
        {
            clock.Advance(Idle - TimeSpan.FromMinutes(1));
            tokens = await RefreshOkAsync(tokens);
        }
    }

    [Fact]
    public async Task A_refresh_at_the_idle_timeout_answers_session_expired_and_closes_the_session()
    {
        var (_, tokens) = await api.NewUserAsync();

        clock.Advance(Idle);
        using var refresh = await api.RefreshAsync(tokens.RefreshToken);
        using var again = await api.RefreshAsync(tokens.RefreshToken);

        await AuthApiClient.ProblemAsync(refresh, HttpStatusCode.Unauthorized, ProblemTypes.SessionExpired);
        await AuthApiClient.ProblemAsync(again, HttpStatusCode.Unauthorized, ProblemTypes.SessionExpired);
        Assert.Equal("idle-timeout", await EndReasonAsync(tokens));
        Assert.Equal(1, await Scrape.ValueAsync(api.Http, "auth_sessions_expired_total{reason=\"idle\"}"));
    }

    [Fact]
    public async Task A_session_ends_at_its_absolute_lifetime_however_active_and_its_last_token_ends_with_it()
    {
        var (_, tokens) = await api.NewUserAsync();
        var refreshEvery = TimeSpan.FromMinutes(25);
        var elapsed = TimeSpan.Zero;
        while (elapsed + refreshEvery < Absolute - TimeSpan.FromMinutes(5))
        {
            clock.Advance(refreshEvery);
            elapsed += refreshEvery;
            tokens = await RefreshOkAsync(tokens);
        }

        // 5 minutes before the end: the new access token may live only those 5 minutes, not its usual 10.
        clock.Advance(Absolute - TimeSpan.FromMinutes(5) - elapsed);
        tokens = await RefreshOkAsync(tokens);
        Assert.Equal(300, tokens.ExpiresIn);
        Assert.Equal(clock.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds(), new DateTimeOffset(new JsonWebToken(tokens.AccessToken).ValidTo).ToUnixTimeSeconds());

        clock.Advance(TimeSpan.FromMinutes(5));
        using var refresh = await api.RefreshAsync(tokens.RefreshToken);

        var problem = await AuthApiClient.ProblemAsync(refresh, HttpStatusCode.Unauthorized, ProblemTypes.SessionExpired);
        Assert.Contains("absolute lifetime", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("absolute-lifetime", await EndReasonAsync(tokens));
    }

    [Fact]
    public async Task Lists_show_when_a_session_ends_unless_used_and_when_it_ends_at_the_latest()
    {
        var (_, tokens) = await api.NewUserAsync();
        var loggedInAt = clock.GetUtcNow();

        using var listed = await api.SendAsync(HttpMethod.Get, "/api/auth/sessions", tokens.AccessToken);

        var session = Assert.Single((await listed.Content.ReadFromJsonAsync<SessionList>())!.Items);
        Assert.Equal(loggedInAt, session.LastActivityAt);
        Assert.Equal(loggedInAt + Idle, session.ExpiresAt);
        Assert.Equal(loggedInAt + Absolute, session.AbsoluteExpiresAt);
    }

    [Fact]
    public async Task The_config_publishes_the_configured_lifetimes()
    {
        var config = await api.Http.GetFromJsonAsync<ClientConfig>("/api/auth/config");

        Assert.Equal(new ClientConfig(600, (int)Idle.TotalSeconds, (int)Absolute.TotalSeconds, 60), config);
    }

    private async Task<Tokens> RefreshOkAsync(Tokens tokens)
    {
        using var response = await api.RefreshAsync(tokens.RefreshToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"refresh at {clock.GetUtcNow():HH:mm:ss}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<Tokens>())!;
    }

    private Task<string?> EndReasonAsync(Tokens tokens)
    {
        var sessionId = Guid.Parse(new JsonWebToken(tokens.AccessToken).GetClaim("sid").Value);
        return host.QueryAsync(db => db.Sessions.Where(s => s.Id == sessionId).Select(s => s.RevokedReason).SingleAsync());
    }
}
