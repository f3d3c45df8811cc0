using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Auth.Data;
using Platform.Auth.Passwords;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class LoginTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private AuthHost host = null!;
    private AuthApiClient api = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_login");
        api = new AuthApiClient(host.CreateRealClient());
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Login_returns_an_es256_access_token_with_the_contract_claims_and_a_refresh_token()
    {
        var email = AuthApiClient.NewEmail();
        using var registered = await api.RegisterAsync(email);
        var userId = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var tokens = await api.LoginOkAsync(email.ToUpperInvariant());

        Assert.Equal("Bearer", tokens.TokenType);
        Assert.Equal(600, tokens.ExpiresIn);
        Assert.Equal(43, tokens.RefreshToken.Length);
        var jwt = new JsonWebToken(tokens.AccessToken);
        Assert.Equal("ES256", jwt.Alg);
        Assert.False(string.IsNullOrEmpty(jwt.Kid));
        Assert.Equal(AuthHost.Issuer, jwt.Issuer);
        Assert.Equal(["platform"], jwt.Audiences);
        Assert.Equal(userId, jwt.Subject);
        Assert.Equal(email, jwt.GetClaim("email").Value);
        Assert.True(Guid.TryParse(jwt.GetClaim("sid").Value, out _));
        Assert.False(string.IsNullOrEmpty(jwt.Id));
        Assert.Equal(TimeSpan.FromMinutes(10), jwt.ValidTo - jwt.IssuedAt);
        Assert.Equal(jwt.IssuedAt, jwt.ValidFrom);
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_address_get_the_same_answer()
    {
        var (email, _) = await api.NewUserAsync();

        using var wrongPassword = await api.LoginAsync(email, "Wrong-password-1");
        using var unknownAddress = await api.LoginAsync(AuthApiClient.NewEmail());

        var first = await AuthApiClient.ProblemAsync(wrongPassword, HttpStatusCode.Unauthorized, AuthProblems.InvalidCredentials);
        var second = await AuthApiClient.ProblemAsync(unknownAddress, HttpStatusCode.Unauthorized, AuthProblems.InvalidCredentials);
        Assert.Equal(first.GetProperty("title").GetString(), second.GetProperty("title").GetString());
        Assert.Equal(
            first.EnumerateObject().Select(p => p.Name).Order(),
            second.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task Repeated_failures_throttle_the_account_with_retry_after_and_the_block_expires()
    {
        var (email, _) = await api.NewUserAsync();
        for (var i = 0; i < 5; i++)
        {
            using var failed = await api.LoginAsync(email, "Wrong-password-1");
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }
        using var sixth = await api.LoginAsync(email, "Wrong-password-1");
        Assert.Equal(HttpStatusCode.Unauthorized, sixth.StatusCode);

        using var blocked = await api.LoginAsync(email);

        await AuthApiClient.ProblemAsync(blocked, HttpStatusCode.TooManyRequests, AuthProblems.LoginThrottled);
        Assert.True(blocked.Headers.RetryAfter?.Delta is { } delay && delay >= TimeSpan.FromSeconds(1));
        await Platform.Testing.Poll.UntilAsync(async () =>
        {
            using var again = await api.LoginAsync(email);
            return again.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(10), "the one-second block to expire");
    }

    [Fact]
    public async Task A_guesser_at_one_address_blocks_only_that_address_not_the_owner_elsewhere()
    {
        var (email, _) = await api.NewUserAsync();
        for (var i = 0; i < 6; i++)
        {
            using var failed = await api.LoginFromAsync("203.0.113.7", email, "Wrong-password-1");
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        // At once, within the sixth failure's one-second block.
        var (guesserTask, ownerTask) = (api.LoginFromAsync("203.0.113.7", email), api.LoginFromAsync("198.51.100.20", email));
        using var guesser = await guesserTask;
        using var owner = await ownerTask;

        await AuthApiClient.ProblemAsync(guesser, HttpStatusCode.TooManyRequests, AuthProblems.LoginThrottled);
        Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
    }

    /// <summary>
    /// A guesser who waited out the longest block must go on at it, not get five free guesses again: the failures are
    /// kept a window past the block. The test gives an address fifteen failures (as if its earlier blocks had passed)
    /// and makes the sixteenth; before, the count expired with the block, both after 15 minutes.
    /// </summary>
    [Fact]
    public async Task After_the_longest_block_the_failures_are_kept_a_window_longer_so_the_escalation_goes_on()
    {
        var (email, _) = await api.NewUserAsync();
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.Tier.RedisConnectionString);
        var keys = ThrottleKeys.Of(email, IPAddress.Parse("203.0.113.77"));
        await redis.GetDatabase().StringSetAsync(keys.AddressFailures, 15, LoginThrottle.Window);

        using var sixteenth = await api.LoginFromAsync("203.0.113.77", email, "Wrong-password-1");

        Assert.Equal(HttpStatusCode.Unauthorized, sixteenth.StatusCode);
        var blocked = await redis.GetDatabase().KeyTimeToLiveAsync(keys.AddressBlocked);
        var failures = await redis.GetDatabase().KeyTimeToLiveAsync(keys.AddressFailures);
        Assert.InRange(blocked!.Value, LoginThrottle.MaxBlock - TimeSpan.FromMinutes(1), LoginThrottle.MaxBlock);
        Assert.InRange(failures!.Value, LoginThrottle.MaxBlock + LoginThrottle.Window - TimeSpan.FromMinutes(1), LoginThrottle.MaxBlock + LoginThrottle.Window);
    }

    [Fact]
    public async Task An_ipv6_client_is_throttled_by_its_slash_64()
    {
        var (email, _) = await api.NewUserAsync();
        for (var i = 0; i < 6; i++)
        {
            using var failed = await api.LoginFromAsync($"2001:db8:1:2::{i + 1:x}", email, "Wrong-password-1");
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        var (samePrefixTask, otherPrefixTask) = (api.LoginFromAsync("2001:db8:1:2:ffff::9", email), api.LoginFromAsync("2001:db8:1:3::1", email));
        using var samePrefix = await samePrefixTask;
        using var otherPrefix = await otherPrefixTask;

        await AuthApiClient.ProblemAsync(samePrefix, HttpStatusCode.TooManyRequests, AuthProblems.LoginThrottled);
        Assert.Equal(HttpStatusCode.OK, otherPrefix.StatusCode);
    }

    [Theory]
    [InlineData(false, 0, LoginThrottle.FreeFailures)] // a fresh address: its free failures, not one check per request
    [InlineData(false, LoginThrottle.FreeFailures, 1)] // the free failures spent: one at a time
    [InlineData(true, 0, LoginThrottle.FreeFailures)] // each replica's memory keeps the same count
    [InlineData(true, LoginThrottle.FreeFailures, 1)]
    public async Task A_burst_of_concurrent_guesses_gets_no_more_password_checks_than_one_at_a_time_would(bool redisDown, int priorFailures, int checks)
    {
        var (email, _) = await api.NewUserAsync();
        // At cost 10 every check takes tens of milliseconds, so the burst's requests all arrive while the first is
        // still hashing (at the suite's cost 4 the first would end, and block the rest, before the others came in).
        await using var slower = await AuthHost.StartAsync(fixture.Tier, "auth_login", host.KeysDirectory, new Dictionary<string, string?>
        {
            ["Passwords:BcryptCost"] = "10",
            ["Passwords:MaxQueuedHashes"] = "100",
        });
        var slowerApi = new AuthApiClient(slower.CreateRealClient());
        await slowerApi.LoginOkAsync(email); // rehashes the password at cost 10
        if (redisDown)
        {
            await fixture.Tier.DownAsync(Platform.Testing.DataTier.Redis);
        }
        HttpResponseMessage[] burst;
        long before;
        try
        {
            for (var i = 0; i < priorFailures; i++)
            {
                using var failed = await slowerApi.LoginFromAsync("203.0.113.30", email, "Wrong-password-1");
                Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
            }
            before = await HashCountAsync(slowerApi);

            burst = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => slowerApi.LoginFromAsync("203.0.113.30", email, "Wrong-password-1")));
        }
        finally
        {
            if (redisDown)
            {
                await fixture.Tier.UpAsync(Platform.Testing.DataTier.Redis);
            }
        }

        Assert.Equal(checks, await HashCountAsync(slowerApi) - before);
        Assert.Equal(checks, burst.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
        foreach (var refused in burst.Where(r => r.StatusCode != HttpStatusCode.Unauthorized))
        {
            await AuthApiClient.ProblemAsync(refused, HttpStatusCode.TooManyRequests, AuthProblems.LoginThrottled);
            Assert.NotNull(refused.Headers.RetryAfter);
        }
    }

    [Fact]
    public async Task Guesses_spread_over_many_addresses_close_the_account_until_its_window_ends()
    {
        var (email, _) = await api.NewUserAsync();
        for (var i = 0; i < LoginThrottle.AccountFailures; i++)
        {
            // Four each: no single address reaches its own block, only the account's count does.
            using var failed = await api.LoginFromAsync($"198.18.{i / 4}.{i % 4 + 1}", email, "Wrong-password-1");
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using var owner = await api.LoginFromAsync("192.0.2.55", email);

        await AuthApiClient.ProblemAsync(owner, HttpStatusCode.TooManyRequests, AuthProblems.LoginThrottled);
        Assert.True(owner.Headers.RetryAfter?.Delta is { } wait && wait > LoginThrottle.Window - TimeSpan.FromMinutes(1) && wait <= LoginThrottle.Window,
            $"Retry-After {owner.Headers.RetryAfter} should be the rest of the account's window");
    }

    [Fact]
    public async Task A_raised_bcrypt_cost_rehashes_the_password_at_the_next_login()
    {
        var (email, _) = await api.NewUserAsync();
        await using var stronger = await AuthHost.StartAsync(fixture.Tier, "auth_login", host.KeysDirectory,
            new Dictionary<string, string?> { ["Passwords:BcryptCost"] = "5" });
        var strongerApi = new AuthApiClient(stronger.CreateRealClient());

        await strongerApi.LoginOkAsync(email);

        await using var scope = stronger.Services.CreateAsyncScope();
        var hash = await scope.ServiceProvider.GetRequiredService<AuthDbContext>().Users
            .Where(u => u.EmailNormalized == email).Select(u => u.PasswordHash).SingleAsync();
        Assert.StartsWith("$2a$05$", hash, StringComparison.Ordinal);
        await strongerApi.LoginOkAsync(email);
    }

    /// <summary>
    /// Two logins of one user just after the cost was raised: both check the old hash, the first rehashes it, and the
    /// second found the hash it checked gone and answered 401 — to the right password. The test holds the user's row,
    /// lets the second login check the password and queue behind it, then writes what the first one's rehash writes.
    /// </summary>
    [Fact]
    public async Task A_login_whose_checked_hash_another_login_rehashed_meanwhile_still_succeeds()
    {
        var (email, _) = await api.NewUserAsync();
        await using var stronger = await AuthHost.StartAsync(fixture.Tier, "auth_login", host.KeysDirectory,
            new Dictionary<string, string?> { ["Passwords:BcryptCost"] = "5" });
        var strongerApi = new AuthApiClient(stronger.CreateRealClient());
        var userId = await stronger.QueryAsync(db => db.Users.Where(u => u.EmailNormalized == email).Select(u => u.Id).SingleAsync());
        var rehashed = await stronger.Services.GetRequiredService<PasswordHasher>().HashAsync(AuthApiClient.GoodPassword, CancellationToken.None);

        using var answer = await UserRowHold.WhileTheHashIsReplacedAsync(stronger, userId, rehashed!, () => strongerApi.LoginAsync(email), LoginWaits);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(rehashed, await stronger.QueryAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.PasswordHash).SingleAsync()));
    }

    /// <summary>The same race with a password set meanwhile to another one (a reset): still a wrong password.</summary>
    [Fact]
    public async Task A_login_whose_checked_hash_a_reset_replaced_meanwhile_is_refused()
    {
        var (email, _) = await api.NewUserAsync();
        var userId = await host.QueryAsync(db => db.Users.Where(u => u.EmailNormalized == email).Select(u => u.Id).SingleAsync());
        var other = await host.Services.GetRequiredService<PasswordHasher>().HashAsync("another-Horse-battery-7", CancellationToken.None);

        using var answer = await UserRowHold.WhileTheHashIsReplacedAsync(host, userId, other!, () => api.LoginAsync(email), LoginWaits);

        await AuthApiClient.ProblemAsync(answer, HttpStatusCode.Unauthorized, AuthProblems.InvalidCredentials);
    }

    private const string LoginWaits = "the login, its password checked, to wait for the user's row";

    [Theory]
    [InlineData("1", "60")] // the queue's length refuses: one check may wait, the rest are told at once
    [InlineData("100", "0.3")] // the wait refuses: 12 checks one after another take over 800 ms, and the queue never fills
    public async Task A_login_storm_beyond_the_hashing_queue_gets_503_overloaded_with_retry_after_not_a_hang(string maxQueued, string maxWaitSeconds)
    {
        var (email, _) = await api.NewUserAsync();
        await using var narrow = await AuthHost.StartAsync(fixture.Tier, "auth_login", host.KeysDirectory, new Dictionary<string, string?>
        {
            ["Passwords:BcryptCost"] = "11",
            ["Passwords:MaxConcurrentHashes"] = "1",
            ["Passwords:MaxQueuedHashes"] = maxQueued,
            ["Passwords:MaxHashWaitSeconds"] = maxWaitSeconds,
        });
        var narrowApi = new AuthApiClient(narrow.CreateRealClient());
        // The user was registered at the suite's cost 4, whose check takes a millisecond; a first login rehashes the
        // password at cost 11, so every check of the storm holds the one hashing slot for 70 ms or more. (A failed
        // rehash does not fail a login, so without this the storm's checks barely overlapped.)
        await narrowApi.LoginOkAsync(email);

        // From twelve addresses: one address may have only the throttle's free failures in flight, and this is about the hashing queue.
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => narrowApi.LoginFromAsync($"203.0.113.{100 + i}", email)));

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        var overloaded = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(overloaded);
        foreach (var response in overloaded)
        {
            Assert.NotNull(response.Headers.RetryAfter);
            await AuthApiClient.ProblemAsync(response, HttpStatusCode.ServiceUnavailable, AuthProblems.Overloaded);
        }
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, r.StatusCode.ToString()));
    }

    [Fact]
    public async Task An_unknown_address_costs_one_bcrypt_verification_like_a_wrong_password()
    {
        var (email, _) = await api.NewUserAsync();
        var before = await HashCountAsync();

        (await api.LoginAsync(email, "Wrong-password-1")).Dispose();
        var afterWrongPassword = await HashCountAsync();
        (await api.LoginAsync(AuthApiClient.NewEmail(), "Wrong-password-1")).Dispose();
        var afterUnknownAddress = await HashCountAsync();

        Assert.Equal(1, afterWrongPassword - before);
        Assert.Equal(1, afterUnknownAddress - afterWrongPassword);
    }

    [Fact]
    public async Task Throttling_still_holds_while_redis_is_down()
    {
        var (email, _) = await api.NewUserAsync();
        await fixture.Tier.DownAsync(Platform.Testing.DataTier.Redis);
        try
        {
            for (var i = 0; i < 6; i++)
            {
                using var failed = await api.LoginAsync(email, "Wrong-password-1");
                Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
            }

            using var blocked = await api.LoginAsync(email);

            await AuthApiClient.ProblemAsync(blocked, HttpStatusCode.TooManyRequests, AuthProblems.LoginThrottled);
        }
        finally
        {
            await fixture.Tier.UpAsync(Platform.Testing.DataTier.Redis);
        }
    }

    [Fact]
    public async Task A_hung_redis_makes_login_slower_not_an_error()
    {
        var (email, _) = await api.NewUserAsync();
        // SIGSTOP: Redis keeps its connections open but answers nothing, so calls time out instead of failing fast.
        using (Platform.Testing.DataTierProcesses.Freeze(fixture.Tier, Platform.Testing.DataTier.Redis, "redis-server"))
        {
            using var wrong = await api.LoginAsync(email, "Wrong-password-1");
            using var right = await api.LoginAsync(email);

            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        }
        await Platform.Testing.RedisReadiness.UntilAsync(api.Http, healthy: true);
    }

    private async Task<long> HashCountAsync(AuthApiClient? of = null)
    {
        var metrics = await (of ?? api).Http.GetStringAsync("/metrics");
        var line = metrics.Split('\n').Single(l => l.StartsWith("auth_password_hash_duration_seconds_count", StringComparison.Ordinal));
        return long.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"email\": \"x@example.org\"}")]
    [InlineData("{\"email\": \"x@example.org\", \"password\": \"\"}")]
    public async Task Missing_credentials_are_400(string body)
    {
        using var response = await api.Http.PostAsync("/api/auth/login", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
