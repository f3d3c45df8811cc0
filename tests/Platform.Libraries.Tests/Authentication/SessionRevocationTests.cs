using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Platform.Authentication;
using Platform.Redis;
using Platform.Testing;
using StackExchange.Redis;

namespace Platform.Libraries.Tests.Authentication;

/// <summary>
/// docs/architecture.md §8.1: a logout stops the session's tokens everywhere within a second, from an in-memory set
/// kept in step with Redis — also across disconnections and outages — and never at the cost of a Redis call per
/// request.
/// </summary>
[Collection(DataTierCollection.Name)]
public sealed class SessionRevocationTests(DataTierFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromMinutes(10);
    private readonly TestSigningKey key = TestSigningKey.Es256();
    private JwksServer jwks = null!;
    private RedisConnection authRedis = null!;
    private SessionRevocations auth = null!;

    public async Task InitializeAsync()
    {
        jwks = await JwksServer.StartAsync(key);
        authRedis = RedisConnection.Connect(fixture.Tier.RedisConnectionString, "auth-under-test", NullLogger.Instance);
        auth = new SessionRevocations(authRedis, new RevokedSessions(TimeProvider.System), TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        await fixture.Tier.UpAsync(DataTier.Redis);
        authRedis.Dispose();
        await jwks.DisposeAsync();
    }

    [Fact]
    public async Task A_published_revocation_refuses_the_session_within_a_second_though_its_token_is_cached()
    {
        await using var app = await ProtectedApp.StartAsync(jwks, fixture.Tier.RedisConnectionString);
        var spec = TokenSpec.Valid();
        var token = Tokens.Sign(spec, key);
        Assert.Equal(200, await app.StatusWithTokenAsync(token));
        Assert.Equal(200, await app.StatusWithTokenAsync(token));
        Assert.Equal(1, await app.CacheRequestsAsync("hit"));

        await auth.PublishAsync(spec.SessionId!.Value, TokenLifetime);

        await Poll.UntilAsync(async () => await app.StatusWithTokenAsync(token) == 401, TimeSpan.FromSeconds(1), "the revoked session to be refused");
        var hitsBefore = await app.CacheRequestsAsync("hit");
        using var response = await app.GetWithTokenAsync(token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("revoked", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(hitsBefore, await app.CacheRequestsAsync("hit"));
        Assert.True(await app.FailuresAsync("revoked") >= 2);
    }

    [Fact]
    public async Task Other_sessions_of_the_same_user_keep_working()
    {
        await using var app = await ProtectedApp.StartAsync(jwks, fixture.Tier.RedisConnectionString);
        var laptop = TokenSpec.Valid();
        var phone = laptop with { SessionId = Guid.NewGuid() };
        var laptopToken = Tokens.Sign(laptop, key);

        await auth.PublishAsync(laptop.SessionId!.Value, TokenLifetime);

        await Poll.UntilAsync(async () => await app.StatusWithTokenAsync(laptopToken) == 401, TimeSpan.FromSeconds(1), "the revoked session to be refused");
        Assert.Equal(200, await app.StatusWithTokenAsync(Tokens.Sign(phone, key)));
    }

    [Fact]
    public async Task A_session_revoked_before_the_service_started_is_refused_from_its_first_request()
    {
        var spec = TokenSpec.Valid();
        await auth.PublishAsync(spec.SessionId!.Value, TokenLifetime); // nobody is listening yet

        await using var app = await ProtectedApp.StartAsync(jwks, fixture.Tier.RedisConnectionString);

        Assert.Equal(401, await app.StatusWithTokenAsync(Tokens.Sign(spec, key)));
    }

    [Fact]
    public async Task A_revocation_published_while_the_service_was_cut_off_from_redis_is_picked_up_when_it_reconnects()
    {
        await using var proxy = RedisProxy();
        await using var app = await ProtectedApp.StartAsync(jwks, ThroughProxy(proxy));
        var spec = TokenSpec.Valid();
        var token = Tokens.Sign(spec, key);
        Assert.Equal(200, await app.StatusWithTokenAsync(token));

        proxy.Cut();
        await Poll.UntilAsync(async () => await SubscribersAsync() == 0, TimeSpan.FromSeconds(10), "Redis to notice the service is gone");
        await auth.PublishAsync(spec.SessionId!.Value, TokenLifetime);
        Assert.Equal(200, await app.StatusWithTokenAsync(token)); // the message was lost: this is what the resync is for

        proxy.Restore();
        await Poll.UntilAsync(async () => await app.StatusWithTokenAsync(token) == 401, TimeSpan.FromSeconds(20), "the resync after reconnecting to refuse the session");
    }

    [Fact]
    public async Task While_redis_is_down_tokens_are_still_checked_and_revoked_sessions_stay_refused()
    {
        await using var app = await ProtectedApp.StartAsync(jwks, fixture.Tier.RedisConnectionString);
        var revoked = TokenSpec.Valid();
        var revokedToken = Tokens.Sign(revoked, key);
        await auth.PublishAsync(revoked.SessionId!.Value, TokenLifetime);
        await Poll.UntilAsync(async () => await app.StatusWithTokenAsync(revokedToken) == 401, TimeSpan.FromSeconds(1), "the revoked session to be refused");

        await fixture.Tier.DownAsync(DataTier.Redis);

        Assert.Equal(200, await app.StatusWithTokenAsync(Tokens.Sign(TokenSpec.Valid(), key)));
        Assert.Equal(401, await app.StatusWithTokenAsync(revokedToken));
        Assert.Equal(401, await app.StatusWithTokenAsync(Tokens.Sign(TokenSpec.Valid() with { Issuer = "https://evil.example" }, key)));
    }

    [Fact]
    public async Task Checking_tokens_makes_no_redis_calls()
    {
        await using var app = await ProtectedApp.StartAsync(jwks, fixture.Tier.RedisConnectionString);
        var callsAfterStart = await app.MetricAsync("auth_redis_calls_total");
        var tokens = Enumerable.Range(0, 20).Select(_ => Tokens.Sign(TokenSpec.Valid(), key)).ToList();

        foreach (var token in tokens.Concat(tokens))
        {
            Assert.Equal(200, await app.StatusWithTokenAsync(token));
        }

        Assert.True(callsAfterStart >= 2, "subscribing and the first SCAN are counted");
        Assert.Equal(callsAfterStart, await app.MetricAsync("auth_redis_calls_total"));
        Assert.Equal(20, await app.CacheRequestsAsync("hit"));
        Assert.Equal(20, await app.CacheRequestsAsync("miss"));
    }

    [Fact]
    public async Task A_service_whose_start_fails_does_not_report_the_revocation_sync_as_a_failed_background_service()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var logs = new FakeLogCollector();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls($"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}");
        builder.Configuration["ConnectionStrings:Redis"] = fixture.Tier.RedisConnectionString;
        builder.Configuration["Auth:Issuer"] = TokenSpec.TrustedIssuer;
        builder.Configuration["Auth:JwksUri"] = jwks.JwksUri.ToString();
        builder.Services.AddSingleton<ILoggerProvider>(new FakeLoggerProvider(logs));
        builder.AddPlatformRedis();
        builder.AddPlatformAuthentication();
        var app = builder.Build();

        await Assert.ThrowsAsync<IOException>(() => app.StartAsync());
        await app.DisposeAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(200)); // the host logs a failed service from the service's task

        Assert.Contains(logs.GetSnapshot(), entry => entry.Message.StartsWith("Revoked sessions synchronised", StringComparison.Ordinal));
        // The one error is the start's own failure; not "BackgroundService failed" and a Critical "StopHost" after it.
        Assert.Equal(["Hosting failed to start"], logs.GetSnapshot().Where(entry => entry.Level >= LogLevel.Error).Select(entry => entry.Message));
    }

    private TcpProxy RedisProxy()
    {
        var redis = ConfigurationOptions.Parse(fixture.Tier.RedisConnectionString).EndPoints.Single();
        return redis switch
        {
            System.Net.DnsEndPoint dns => new TcpProxy(dns.Host, dns.Port),
            System.Net.IPEndPoint ip => new TcpProxy(ip.Address.ToString(), ip.Port),
            _ => throw new NotSupportedException(redis.ToString()),
        };
    }

    private string ThroughProxy(TcpProxy proxy)
    {
        var options = ConfigurationOptions.Parse(fixture.Tier.RedisConnectionString);
        options.EndPoints.Clear();
        options.EndPoints.Add(System.Net.IPAddress.Loopback, proxy.Port);
        return options.ToString(includePassword: true);
    }

    private async Task<long> SubscribersAsync()
    {
        var reply = (RedisResult[])(await authRedis.Database.ExecuteAsync("PUBSUB", "NUMSUB", SessionRevocations.Channel))!;
        return (long)reply[1];
    }
}
