using Platform.Testing;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class MetricsTests(AuthTierFixture fixture)
{
    [Fact]
    public async Task Auth_exports_its_own_metrics_and_promtool_accepts_them()
    {
        await using var host = await AuthHost.StartAsync(fixture.Tier, "auth_metrics");
        var api = new AuthApiClient(host.CreateRealClient());
        var (email, tokens) = await api.NewUserAsync();
        (await api.LoginAsync(email, "Wrong-password-1")).Dispose();
        (await api.SendAsync(HttpMethod.Get, "/api/auth/me", tokens.AccessToken)).Dispose();

        // outbox_pending is reported once the dispatcher has counted the outbox, shortly after start.
        var metrics = await Poll.UntilAsync(() => api.Http.GetStringAsync("/metrics"),
            scrape => scrape.Contains("# TYPE outbox_pending gauge", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "the outbox to be counted");

        Assert.Contains("auth_logins_total{result=\"success\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("auth_logins_total{result=\"failure\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE auth_password_hash_duration_seconds histogram", metrics, StringComparison.Ordinal);
        Assert.Contains("auth_keyset_version 1\n", metrics, StringComparison.Ordinal);
        Assert.Matches(@"\nauth_signing_key_age_seconds \d+(\.\d+)?\n", metrics);
        Assert.Contains("# TYPE outbox_pending gauge", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE token_cache_requests_total counter", metrics, StringComparison.Ordinal);
        var check = await ShellCommand.RunAsync("promtool", ["check", "metrics"], environment: null, TimeSpan.FromSeconds(30), standardInput: metrics);
        Assert.True(check.ExitCode == 0 && check.Output.Trim().Length == 0, check.Output);
    }
}
