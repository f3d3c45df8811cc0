using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Auth.Sessions;
using Platform.Data.Retention;
using Platform.Hosting.Problems;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>The background jobs, on a clock the test moves: cleanup closes expired sessions by reason and counts them; retention deletes them later.</summary>
[Collection(AuthTierCollection.Name)]
public sealed class SessionCleanupTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private readonly FakeTimeProvider clock = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    private AuthHost host = null!;
    private AuthApiClient api = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_cleanup", overrides: new Dictionary<string, string?>
        {
            ["Sessions:IdleTimeout"] = "00:30:00",
            ["Sessions:AbsoluteLifetime"] = "02:00:00",
        }, clock: clock);
        api = new AuthApiClient(host.CreateRealClient());
        await host.QueryAsync(db => db.Sessions.ExecuteDeleteAsync()); // the database is this class's own: start from no sessions
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Expired_sessions_are_closed_and_counted_by_reason_then_deleted_with_their_refresh_tokens_past_the_sessions_horizon()
    {
        var (email, idle) = await api.NewUserAsync();
        var active = await api.LoginOkAsync(email);

        clock.Advance(TimeSpan.FromMinutes(25));
        active = await RefreshOkAsync(active);
        clock.Advance(TimeSpan.FromMinutes(6)); // 31 minutes without activity for the idle one
        await UntilEndedAsync(idle, "idle-timeout");
        Assert.Null(await EndReasonAsync(active));
        using (var closedByTheJob = await api.RefreshAsync(idle.RefreshToken))
        {
            await AuthApiClient.ProblemAsync(closedByTheJob, HttpStatusCode.Unauthorized, ProblemTypes.SessionExpired);
        }

        foreach (var step in new[] { 19, 25, 25 }) // refreshed at 50, 75 and 100 minutes
        {
            clock.Advance(TimeSpan.FromMinutes(step));
            active = await RefreshOkAsync(active);
        }
        clock.Advance(TimeSpan.FromMinutes(21)); // 2 h 1 min after login, 21 minutes after the last refresh
        await UntilEndedAsync(active, "absolute-lifetime");

        Assert.Equal(1, await Scrape.ValueAsync(api.Http, "auth_sessions_expired_total{reason=\"idle\"}"));
        Assert.Equal(1, await Scrape.ValueAsync(api.Http, "auth_sessions_expired_total{reason=\"absolute\"}"));

        Assert.Equal(0, await Scrape.ValueAsync(api.Http, "retention_rows_removed_total{table=\"sessions\"}"));
        clock.Advance(TimeSpan.FromDays(29)); // inside the 30-day horizon of appsettings.json: a retention pass keeps them
        var passes = await host.Services.GetRequiredService<RetentionRunner>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, Assert.Single(passes, pass => pass.Table == "sessions").RowsRemoved);
        Assert.Equal(2, await host.QueryAsync(db => db.Sessions.CountAsync()));
        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        await Poll.UntilAsync(() => host.QueryAsync(db => db.Sessions.AnyAsync()), any => !any, TimeSpan.FromSeconds(10), "ended sessions to be deleted");
        Assert.False(await host.QueryAsync(db => db.RefreshTokens.AnyAsync()));
        Assert.Equal(2, await Scrape.ValueAsync(api.Http, "retention_rows_removed_total{table=\"sessions\"}"));
    }

    private async Task<Tokens> RefreshOkAsync(Tokens tokens)
    {
        using var response = await api.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Tokens>())!;
    }

    private Task<string?> UntilEndedAsync(Tokens tokens, string reason) =>
        Poll.UntilAsync(() => EndReasonAsync(tokens), ended => ended == reason, TimeSpan.FromSeconds(10), $"the cleanup job to close the session ({reason})");

    private Task<string?> EndReasonAsync(Tokens tokens)
    {
        var sessionId = Guid.Parse(new JsonWebToken(tokens.AccessToken).GetClaim("sid").Value);
        return host.QueryAsync(db => db.Sessions.Where(s => s.Id == sessionId).Select(s => s.RevokedReason).SingleAsync());
    }
}
