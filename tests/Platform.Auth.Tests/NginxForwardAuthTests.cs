extern alias OperatorProject;

using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using OperatorProject::Platform.Operator.Keys;
using Platform.Auth.Keys;
using Platform.Auth.Tokens;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>Runs only where the nginx binary is installed; .ci/run installs it.</summary>
public sealed class NginxFactAttribute : FactAttribute
{
    public NginxFactAttribute()
    {
        if (NginxServer.Binary is null)
        {
            Skip = "nginx is not installed (apt-get install nginx-light; .ci/run installs it)";
        }
    }
}

/// <summary>
/// A real nginx protecting a static upstream with <c>auth_request</c> to auth's <c>/api/auth/verify</c>, as an ingress
/// would. nginx asks one auth replica; logouts happen at another, so a revocation has to travel through Redis.
/// </summary>
[Collection(AuthTierCollection.Name)]
public sealed class NginxForwardAuthTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private const string Database = "auth_nginx";

    private AuthHost verifier = null!;
    private AuthHost sessions = null!;
    private AuthApiClient api = null!;
    private NginxServer? nginx;

    public async Task InitializeAsync()
    {
        // A key active since an hour ago, so the test can sign a token that expired long ago with it.
        var hourAgo = DateTimeOffset.UtcNow.AddHours(-1);
        var keys = await TestKeysets.CreateAsync(SigningKeyFactory.CreateEs256(hourAgo, hourAgo));
        verifier = await AuthHost.StartAsync(fixture.Tier, Database, keys);
        sessions = await AuthHost.StartAsync(fixture.Tier, Database, keys);
        api = new AuthApiClient(sessions.CreateRealClient());
        if (NginxServer.Binary is null)
        {
            return;
        }
        var appPort = fixture.Tier.BasePort + 4;
        var upstreamPort = fixture.Tier.BasePort + 5;
        nginx = await NginxServer.StartAsync(ForwardAuthConfig(appPort, upstreamPort, new Uri(verifier.Address, "/api/auth/verify")), appPort);
    }

    public async Task DisposeAsync()
    {
        if (nginx is not null)
        {
            await nginx.DisposeAsync();
        }
        await sessions.DisposeAsync();
        await verifier.DisposeAsync();
    }

    [NginxFact]
    public async Task A_valid_token_reaches_the_upstream_with_the_users_identity_and_forged_identity_headers_do_not()
    {
        var (email, tokens) = await api.NewUserAsync();
        var token = new JsonWebToken(tokens.AccessToken);

        using var response = await GetAppAsync(tokens.AccessToken, forgedUserId: Guid.NewGuid().ToString());

        Assert.True(response.StatusCode == HttpStatusCode.OK, nginx!.ErrorLog);
        var seen = await UpstreamSawAsync(response);
        Assert.Equal(token.Subject, seen["user"]);
        Assert.Equal(email, seen["email"]);
        Assert.Equal(token.GetClaim("sid").Value, seen["session"]);
    }

    [NginxFact]
    public async Task A_missing_garbage_or_expired_token_is_refused_with_401_and_a_bearer_challenge()
    {
        var (_, tokens) = await api.NewUserAsync();
        var expired = ExpiredTokenLike(tokens);

        foreach (var (what, token) in new[] { ("missing", null), ("garbage", "not.a.jwt"), ("expired", expired) })
        {
            using var response = await GetAppAsync(token, forgedUserId: Guid.NewGuid().ToString());

            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{what}: {response.StatusCode}");
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
    }

    [NginxFact]
    public async Task A_revoked_session_is_refused_within_a_second()
    {
        var (_, tokens) = await api.NewUserAsync();
        using (var before = await GetAppAsync(tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode); // and now in the verifier's validated-token cache
        }

        using var logout = await api.SendAsync(HttpMethod.Post, "/api/auth/logout", tokens.AccessToken);
        var loggedOut = Stopwatch.StartNew();

        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        await Poll.UntilAsync(async () =>
        {
            using var response = await GetAppAsync(tokens.AccessToken);
            return response.StatusCode == HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(1), "nginx to refuse the logged-out session");
        Assert.True(loggedOut.Elapsed < TimeSpan.FromSeconds(1), $"refused after {loggedOut.Elapsed.TotalMilliseconds:0} ms");
    }

    /// <summary>
    /// What the chart's ingress-nginx annotations amount to: auth_request to verify, the user headers copied from its
    /// answer onto the proxied request (replacing whatever the client sent under those names), and an upstream that
    /// echoes the headers it received.
    /// </summary>
    private static string ForwardAuthConfig(int appPort, int upstreamPort, Uri verify) => $$"""
        server {
            listen 127.0.0.1:{{appPort}};
            location = /_platform_verify {
                internal;
                proxy_pass {{verify}};
                proxy_pass_request_body off;
                proxy_set_header Content-Length "";
                proxy_set_header X-Original-URI $request_uri;
            }
            location / {
                auth_request /_platform_verify;
                auth_request_set $platform_user_id $upstream_http_x_user_id;
                auth_request_set $platform_user_email $upstream_http_x_user_email;
                auth_request_set $platform_session_id $upstream_http_x_session_id;
                proxy_set_header X-User-Id $platform_user_id;
                proxy_set_header X-User-Email $platform_user_email;
                proxy_set_header X-Session-Id $platform_session_id;
                proxy_pass http://127.0.0.1:{{upstreamPort}};
            }
        }
        server {
            listen 127.0.0.1:{{upstreamPort}};
            location / {
                default_type text/plain;
                return 200 "user=$http_x_user_id\nemail=$http_x_user_email\nsession=$http_x_session_id\n";
            }
        }
        """;

    private async Task<HttpResponseMessage> GetAppAsync(string? accessToken, string? forgedUserId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/some/app/page");
        if (accessToken is not null)
        {
            request.Headers.Authorization = new("Bearer", accessToken);
        }
        if (forgedUserId is not null)
        {
            request.Headers.Add("X-User-Id", forgedUserId);
        }
        return await nginx!.Client.SendAsync(request);
    }

    private static async Task<Dictionary<string, string>> UpstreamSawAsync(HttpResponseMessage response) =>
        (await response.Content.ReadAsStringAsync())
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1]);

    /// <summary>A token for the same user and session, signed with the real active key, that expired ten minutes ago.</summary>
    private string ExpiredTokenLike(Tokens tokens)
    {
        var real = new JsonWebToken(tokens.AccessToken);
        var twentyMinutesAgo = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-20));
        var issuer = new AccessTokenIssuer(verifier.Services.GetRequiredService<KeysetProvider>(),
            verifier.Services.GetRequiredService<IOptions<TokenOptions>>(), twentyMinutesAgo);
        var expired = issuer.Issue(Guid.Parse(real.Subject), Guid.Parse(real.GetClaim("sid").Value), real.GetClaim("email").Value, emailVerified: false, ["user"], DateTimeOffset.MaxValue)!;
        Assert.True(expired.ExpiresAt < DateTimeOffset.UtcNow.AddMinutes(-9), expired.ExpiresAt.ToString(CultureInfo.InvariantCulture));
        return expired.Token;
    }
}
