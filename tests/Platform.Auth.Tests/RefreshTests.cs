using System.Net;
using System.Net.Http.Json;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class RefreshTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private AuthHost host = null!;
    private AuthApiClient api = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_refresh");
        api = new AuthApiClient(host.CreateRealClient());
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Refresh_returns_a_new_pair_in_the_same_session()
    {
        var (_, first) = await api.NewUserAsync();

        using var response = await api.RefreshAsync(first.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var second = (await response.Content.ReadFromJsonAsync<Tokens>())!;
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.NotEqual(first.AccessToken, second.AccessToken);
        Assert.Equal(new JsonWebToken(first.AccessToken).GetClaim("sid").Value, new JsonWebToken(second.AccessToken).GetClaim("sid").Value);
    }

    [Fact]
    public async Task Refresh_token_reuse_revokes_the_whole_session()
    {
        var (_, first) = await api.NewUserAsync();
        using var rotated = await api.RefreshAsync(first.RefreshToken);
        var second = (await rotated.Content.ReadFromJsonAsync<Tokens>())!;

        using var reuse = await api.RefreshAsync(first.RefreshToken);
        using var successorAfterReuse = await api.RefreshAsync(second.RefreshToken);

        await AuthApiClient.ProblemAsync(reuse, HttpStatusCode.Unauthorized, AuthProblems.InvalidRefreshToken);
        await AuthApiClient.ProblemAsync(successorAfterReuse, HttpStatusCode.Unauthorized, AuthProblems.InvalidRefreshToken);
        using var me = await api.SendAsync(HttpMethod.Get, "/api/auth/me", second.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Fact]
    public async Task Concurrent_use_of_one_refresh_token_succeeds_at_most_once()
    {
        var (_, tokens) = await api.NewUserAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => api.RefreshAsync(tokens.RefreshToken)));

        Assert.True(responses.Count(r => r.StatusCode == HttpStatusCode.OK) <= 1);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized, r.StatusCode.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")]
    public async Task Unknown_or_malformed_refresh_tokens_are_401(string token)
    {
        using var response = await api.RefreshAsync(token);

        await AuthApiClient.ProblemAsync(response, HttpStatusCode.Unauthorized, AuthProblems.InvalidRefreshToken);
    }
}
