using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Platform.Auth.Tests;

/// <summary>
/// <c>POST /api/auth/sessions/current/activity</c> on two replicas of auth sharing one database and one clock the test
/// moves. Writes are counted by a trigger on the sessions table — the database's own count, not the service's.
/// </summary>
[Collection(AuthTierCollection.Name)]
public sealed class ActivityTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private const string Database = "auth_activity";
    private const int CallsPerBurst = 20;

    private readonly FakeTimeProvider clock = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    private AuthHost first = null!;
    private AuthHost second = null!;
    private AuthApiClient firstApi = null!;
    private AuthApiClient secondApi = null!;

    public async Task InitializeAsync()
    {
        first = await AuthHost.StartAsync(fixture.Tier, Database, clock: clock);
        second = await AuthHost.StartAsync(fixture.Tier, Database, first.KeysDirectory, clock: clock);
        firstApi = new AuthApiClient(first.CreateRealClient());
        secondApi = new AuthApiClient(second.CreateRealClient());
        await first.QueryAsync(db => db.Database.ExecuteSqlRawAsync("""
            CREATE TABLE IF NOT EXISTS session_writes (session_id uuid NOT NULL);
            CREATE OR REPLACE FUNCTION count_session_write() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO session_writes VALUES (NEW.id); RETURN NULL; END $$;
            CREATE OR REPLACE TRIGGER count_session_writes AFTER UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION count_session_write();
            """));
    }

    public async Task DisposeAsync()
    {
        await second.DisposeAsync();
        await first.DisposeAsync();
    }

    [Fact]
    public async Task Activity_is_written_at_most_once_a_minute_per_session_across_replicas()
    {
        var (_, tokens) = await firstApi.NewUserAsync();
        var sessionId = SessionOf(tokens);
        var loggedInAt = clock.GetUtcNow();

        await BurstAsync(tokens); // the login itself was activity a moment ago
        Assert.Equal(0, await WritesAsync(sessionId));

        clock.Advance(TimeSpan.FromSeconds(61));
        await BurstAsync(tokens);
        Assert.Equal(1, await WritesAsync(sessionId));

        clock.Advance(TimeSpan.FromSeconds(30));
        await BurstAsync(tokens);
        Assert.Equal(1, await WritesAsync(sessionId));

        clock.Advance(TimeSpan.FromSeconds(31)); // a minute after the last write
        await BurstAsync(tokens);
        Assert.Equal(2, await WritesAsync(sessionId));

        Assert.Equal(loggedInAt.AddSeconds(122), await first.QueryAsync(db => db.Sessions.Where(s => s.Id == sessionId).Select(s => s.LastActivityAt).SingleAsync()));
        // Each replica exports its own counts: the two scrapes together count every call.
        Assert.Equal(2, await Scrape.ValueAsync(firstApi.Http, Written) + await Scrape.ValueAsync(secondApi.Http, Written));
        Assert.Equal((4 * CallsPerBurst) - 2, await Scrape.ValueAsync(firstApi.Http, Coalesced) + await Scrape.ValueAsync(secondApi.Http, Coalesced));
    }

    [Fact]
    public async Task Activity_keeps_a_session_alive_that_would_otherwise_go_idle()
    {
        var (email, marked) = await firstApi.NewUserAsync();
        var unmarked = await firstApi.LoginOkAsync(email);

        clock.Advance(TimeSpan.FromMinutes(20));
        using var activity = await secondApi.SendAsync(HttpMethod.Post, "/api/auth/sessions/current/activity", marked.AccessToken);
        clock.Advance(TimeSpan.FromMinutes(20)); // 40 minutes after login, 20 after the activity

        Assert.Equal(HttpStatusCode.NoContent, activity.StatusCode);
        using var markedRefresh = await firstApi.RefreshAsync(marked.RefreshToken);
        using var unmarkedRefresh = await firstApi.RefreshAsync(unmarked.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, markedRefresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unmarkedRefresh.StatusCode);
    }

    private const string Written = "auth_session_activity_total{result=\"written\"}";
    private const string Coalesced = "auth_session_activity_total{result=\"coalesced\"}";

    /// <summary>Concurrent activity calls spread over both replicas, so their writes race.</summary>
    private async Task BurstAsync(Tokens tokens)
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, CallsPerBurst).Select(i =>
            (i % 2 == 0 ? firstApi : secondApi).SendAsync(HttpMethod.Post, "/api/auth/sessions/current/activity", tokens.AccessToken)));
        Assert.All(responses, response => Assert.Equal(HttpStatusCode.NoContent, response.StatusCode));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    private Task<int> WritesAsync(Guid sessionId) =>
        first.QueryAsync(db => db.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM session_writes WHERE session_id = {sessionId}").SingleAsync());

    private static Guid SessionOf(Tokens tokens) => Guid.Parse(new JsonWebToken(tokens.AccessToken).GetClaim("sid").Value);
}
