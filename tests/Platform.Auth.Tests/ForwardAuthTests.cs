using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Npgsql;
using Platform.Auth.ForwardAuth;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary><c>GET /api/auth/verify</c> as an ingress calls it: identity in headers, no body, and no database on the way.</summary>
[Collection(AuthTierCollection.Name)]
public sealed class ForwardAuthTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private const string Database = "auth_forward";

    private AuthHost host = null!;
    private AuthApiClient api = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, Database);
        api = new AuthApiClient(host.CreateRealClient());
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_valid_token_is_answered_200_with_the_callers_identity_in_headers_and_no_body()
    {
        var (email, tokens) = await api.NewUserAsync();
        var token = new JsonWebToken(tokens.AccessToken);

        using var verified = await api.SendAsync(HttpMethod.Get, "/api/auth/verify", tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        Assert.Equal(token.Subject, verified.Headers.GetValues(ForwardAuthApi.UserIdHeader).Single());
        Assert.Equal(email, verified.Headers.GetValues(ForwardAuthApi.UserEmailHeader).Single());
        Assert.Equal(token.GetClaim("sid").Value, verified.Headers.GetValues(ForwardAuthApi.SessionIdHeader).Single());
        Assert.Empty(await verified.Content.ReadAsByteArrayAsync());
        Assert.True(verified.Headers.CacheControl?.NoStore);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not.a.jwt")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.")]
    public async Task A_missing_or_invalid_token_is_answered_401_with_a_bearer_challenge(string? token)
    {
        using var refused = await api.SendAsync(HttpMethod.Get, "/api/auth/verify", token);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
        Assert.False(refused.Headers.Contains(ForwardAuthApi.UserIdHeader));
    }

    [Fact]
    public async Task A_logged_out_session_is_refused_at_once()
    {
        var (_, tokens) = await api.NewUserAsync();
        (await api.SendAsync(HttpMethod.Get, "/api/auth/verify", tokens.AccessToken)).Dispose(); // now in the validated-token cache

        (await api.SendAsync(HttpMethod.Post, "/api/auth/logout", tokens.AccessToken)).Dispose();
        using var refused = await api.SendAsync(HttpMethod.Get, "/api/auth/verify", tokens.AccessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Verification_needs_no_database()
    {
        // A replica of auth that reaches PostgreSQL through a relay the test can cut.
        var primary = new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary);
        await using var database = new TcpProxy(primary.Host!, primary.Port);
        primary.Host = "127.0.0.1";
        primary.Port = database.Port;
        await using var replica = await AuthHost.StartAsync(fixture.Tier, Database, host.KeysDirectory,
            new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = primary.ConnectionString });
        var replicaApi = new AuthApiClient(replica.CreateRealClient());
        var (_, tokens) = await api.NewUserAsync();

        database.Cut();
        try
        {
            using var verified = await replicaApi.SendAsync(HttpMethod.Get, "/api/auth/verify", tokens.AccessToken);
            using var me = await replicaApi.SendAsync(HttpMethod.Get, "/api/auth/me", tokens.AccessToken); // which does need it

            Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, me.StatusCode); // a database outage is a 503 with Retry-After
        }
        finally
        {
            database.Restore();
        }
    }

    [Fact]
    public async Task A_non_ascii_email_address_is_passed_as_utf8()
    {
        var email = $"jörg-{Guid.NewGuid():N}@exämple.org";
        Assert.Equal(HttpStatusCode.Created, (await api.RegisterAsync(email)).StatusCode);
        var tokens = await api.LoginOkAsync(email);
        using var handler = new SocketsHttpHandler { ResponseHeaderEncodingSelector = (_, _) => Encoding.UTF8 };
        using var utf8Client = new HttpClient(handler) { BaseAddress = host.Address };

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/auth/verify");
        request.Headers.Authorization = new("Bearer", tokens.AccessToken);
        using var verified = await utf8Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        Assert.Equal(email, verified.Headers.GetValues(ForwardAuthApi.UserEmailHeader).Single());
    }
}

/// <summary><c>GET /api/auth/config</c> with the service's defaults.</summary>
[Collection(AuthTierCollection.Name)]
public sealed class ClientConfigTests(AuthTierFixture fixture)
{
    [Fact]
    public async Task The_config_publishes_the_default_lifetimes_to_anyone()
    {
        await using var host = await AuthHost.StartAsync(fixture.Tier, "auth_config");
        using var client = host.CreateRealClient();

        using var response = await client.GetAsync(new Uri("/api/auth/config", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new ClientConfig(600, 1800, 7 * 24 * 3600, 60), await response.Content.ReadFromJsonAsync<ClientConfig>());
        Assert.Equal(TimeSpan.FromSeconds(60), response.Headers.CacheControl?.MaxAge);
    }
}
