extern alias OperatorProject;

using System.Collections.Concurrent;
using System.Net;
using Microsoft.IdentityModel.JsonWebTokens;
using OperatorProject::Platform.Operator.Keys;
using Platform.Testing;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class RotationUnderLoadTests(AuthTierFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>
    /// The goal of docs/architecture.md §4.5: a rotation under load rejects zero valid tokens. Another service keeps
    /// validating a pool of tokens (old ones, and new ones as logins keep coming) while the keyset gains a next key
    /// that then activates; its JWKS cache does not know the new key when the first token signed with it arrives.
    /// </summary>
    [Fact]
    public async Task A_rotation_while_requests_flow_rejects_no_valid_token()
    {
        var current = SigningKeyFactory.CreateEs256(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(-5));
        // The login loop opens a session every 200 ms: a cap above that keeps eviction out of what is measured.
        await using var auth = await AuthHost.StartAsync(fixture.Tier, "auth_rotation", await TestKeysets.CreateAsync(current),
            new Dictionary<string, string?> { ["Tokens:MaxSessionsPerUser"] = "1000" });
        await using var other = await OtherService.StartAsync(fixture.Tier, auth);
        var api = new AuthApiClient(auth.CreateRealClient());
        var (email, first) = await api.NewUserAsync();
        var pool = new ConcurrentQueue<string>([first.AccessToken]);
        var verdicts = new ConcurrentBag<(string Kid, HttpStatusCode Status)>();
        using var stop = new CancellationTokenSource();

        var validators = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var token in pool.ToArray())
                {
                    verdicts.Add((new JsonWebToken(token).Kid, await other.WhoAmIAsync(token)));
                }
            }
        })).ToList();
        var logins = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                pool.Enqueue((await api.LoginOkAsync(email)).AccessToken);
                await Task.Delay(200);
            }
        });

        var next = SigningKeyFactory.CreateEs256(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(3));
        await TestKeysets.WriteAsync(auth.KeysDirectory, 2, current, next);
        await Poll.UntilAsync(() => Task.FromResult(verdicts.Count(v => v.Kid == next.Kid && v.Status == HttpStatusCode.OK)),
            validatedWithNext => validatedWithNext >= 50, TimeSpan.FromSeconds(30), "tokens signed with the new key to be validated");
        await stop.CancelAsync();
        await Task.WhenAll([.. validators, logins]);

        var failures = verdicts.Where(v => v.Status != HttpStatusCode.OK).ToList();
        output.WriteLine($"rotation under load: {verdicts.Count} requests ({verdicts.Count(v => v.Kid == current.Kid)} with the old key, "
            + $"{verdicts.Count(v => v.Kid == next.Kid)} with the new one), {failures.Count} failed");
        Assert.True(failures.Count == 0, $"{failures.Count} of {verdicts.Count} requests failed: {string.Join(", ", failures.GroupBy(f => (f.Kid, f.Status)).Select(g => $"{g.Key}: {g.Count()}"))}");
        Assert.Contains(verdicts, v => v.Kid == current.Kid);
        Assert.True(verdicts.Count > 200, $"only {verdicts.Count} requests were made");
    }
}
