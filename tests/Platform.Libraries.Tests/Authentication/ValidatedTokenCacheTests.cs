using Microsoft.Extensions.Options;
using Platform.Authentication;
using Platform.Testing;

namespace Platform.Libraries.Tests.Authentication;

/// <summary>A token's signature is checked once, yet the cache never answers for an expired token or a revoked session, and never grows past its capacity.</summary>
[Collection(DataTierCollection.Name)]
public sealed class ValidatedTokenCacheTests(DataTierFixture fixture) : IAsyncLifetime
{
    private readonly TestSigningKey key = TestSigningKey.Es256();
    private readonly ManualTimeProvider clock = new();
    private JwksServer jwks = null!;

    public async Task InitializeAsync() => jwks = await JwksServer.StartAsync(key);

    public async Task DisposeAsync() => await jwks.DisposeAsync();

    [Fact]
    public async Task A_second_request_with_the_same_token_is_answered_from_the_cache()
    {
        await using var app = await ProtectedApp.StartAsync(jwks, fixture.Tier.RedisConnectionString);
        var token = Tokens.Sign(TokenSpec.Valid(), key);

        Assert.Equal(200, await app.StatusWithTokenAsync(token));
        Assert.Equal(200, await app.StatusWithTokenAsync(token));

        Assert.Equal(1, await app.CacheRequestsAsync("miss"));
        Assert.Equal(1, await app.CacheRequestsAsync("hit"));
    }

    [Fact]
    public async Task A_cached_token_is_refused_once_it_expires()
    {
        await using var app = await ProtectedApp.StartAsync(jwks, fixture.Tier.RedisConnectionString,
            new Dictionary<string, string> { ["Auth:ClockSkewSeconds"] = "0" });
        var token = Tokens.Sign(TokenSpec.Valid() with { Expires = DateTime.UtcNow.AddSeconds(2) }, key);
        Assert.Equal(200, await app.StatusWithTokenAsync(token));
        Assert.Equal(200, await app.StatusWithTokenAsync(token));
        Assert.Equal(1, await app.CacheRequestsAsync("hit"));

        await Poll.UntilAsync(async () => await app.StatusWithTokenAsync(token) == 401, TimeSpan.FromSeconds(10), "the token to expire");

        Assert.Equal(1, await app.FailuresAsync("expired"));
    }

    [Fact]
    public void An_entry_is_served_until_its_token_expires_and_not_after()
    {
        var cache = Cache(capacity: 10, out _);
        var spec = TokenSpec.Valid();
        var hash = TokenHash.Of("token");
        cache.Add(hash, Tokens.Identity(spec), spec.SessionId!.Value, clock.GetUtcNow().AddMinutes(1));

        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.True(cache.TryGet(hash, out var principal));
        Assert.Equal(spec.UserId.ToString(), principal!.Identity!.Name);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGet(hash, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void An_entry_of_a_revoked_session_is_never_served()
    {
        var cache = Cache(capacity: 10, out var revoked);
        var spec = TokenSpec.Valid();
        var hash = TokenHash.Of("token");
        cache.Add(hash, Tokens.Identity(spec), spec.SessionId!.Value, clock.GetUtcNow().AddMinutes(10));

        revoked.Revoke(spec.SessionId.Value, clock.GetUtcNow().AddMinutes(10));

        Assert.False(cache.TryGet(hash, out _));
    }

    [Fact]
    public async Task A_full_cache_takes_no_more_tokens_until_expired_ones_are_swept_out()
    {
        var cache = Cache(capacity: 2, out _);
        var spec = TokenSpec.Valid();
        cache.Add(TokenHash.Of("a"), Tokens.Identity(spec), spec.SessionId!.Value, clock.GetUtcNow().AddMinutes(1));
        cache.Add(TokenHash.Of("b"), Tokens.Identity(spec), spec.SessionId.Value, clock.GetUtcNow().AddMinutes(10));

        cache.Add(TokenHash.Of("c"), Tokens.Identity(spec), spec.SessionId.Value, clock.GetUtcNow().AddMinutes(10));
        Assert.Equal(2, cache.Count);
        Assert.False(cache.TryGet(TokenHash.Of("c"), out _));

        clock.Advance(TimeSpan.FromMinutes(2)); // "a" expired; the next insert starts a sweep that drops it
        await Poll.UntilAsync(() =>
        {
            cache.Add(TokenHash.Of("c"), Tokens.Identity(spec), spec.SessionId.Value, clock.GetUtcNow().AddMinutes(10));
            return Task.FromResult(cache.TryGet(TokenHash.Of("c"), out _));
        }, TimeSpan.FromSeconds(5), "the sweep to make room");
        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet(TokenHash.Of("b"), out _));
    }

    [Fact]
    public void Each_hit_gets_a_principal_of_its_own()
    {
        var cache = Cache(capacity: 10, out _);
        var spec = TokenSpec.Valid();
        cache.Add(TokenHash.Of("token"), Tokens.Identity(spec), spec.SessionId!.Value, clock.GetUtcNow().AddMinutes(10));

        cache.TryGet(TokenHash.Of("token"), out var first);
        ((System.Security.Claims.ClaimsIdentity)first!.Identity!).AddClaim(new System.Security.Claims.Claim("role", "admin"));
        cache.TryGet(TokenHash.Of("token"), out var second);

        Assert.False(second!.IsInRole("admin"));
    }

    private ValidatedTokenCache Cache(int capacity, out RevokedSessions revoked)
    {
        revoked = new RevokedSessions(clock);
        return new ValidatedTokenCache(Options.Create(new AuthOptions { Issuer = TokenSpec.TrustedIssuer, TokenCacheCapacity = capacity }), revoked, clock);
    }
}
