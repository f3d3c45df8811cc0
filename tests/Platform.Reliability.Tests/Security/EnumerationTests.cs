using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Platform.Reliability.Tests.Security;

/// <summary>
/// Whether login tells an attacker that an address has an account: by its answer (status, problem type, headers)
/// or by how long it takes (the distributions of both cases, interleaved so the machine's load falls on both alike).
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class EnumerationTests(ReliabilityPlatform platform)
{
    private const int Samples = 60;

    /// <summary>Wrong passwords per known account, below the throttle's free failures, so the throttle never changes the answer.</summary>
    private const int AttemptsPerAccount = 4;

    [Fact]
    [Trait("Category", "Drill")]
    public async Task Login_answers_an_unknown_address_and_a_wrong_password_alike_in_body_and_in_time()
    {
        var accounts = new List<string>();
        for (var i = 0; i < Samples / AttemptsPerAccount; i++)
        {
            accounts.Add((await platform.SignUpAsync("enum")).Email);
        }
        var known = new List<(string Body, TimeSpan Elapsed)>();
        var unknown = new List<(string Body, TimeSpan Elapsed)>();
        await LoginAsync(accounts[0], "warm-up-Password-1"); // the first request of a kind pays for JIT and connections
        for (var i = 0; i < Samples; i++)
        {
            known.Add(await LoginAsync(accounts[i / AttemptsPerAccount], $"wrong-Password-{i}"));
            unknown.Add(await LoginAsync($"nobody-{Guid.NewGuid():N}@example.org", $"wrong-Password-{i}"));
        }

        var knownMs = Distribution(known);
        var unknownMs = Distribution(unknown);
        var shiftOfMedians = Math.Abs(knownMs.Median - unknownMs.Median);
        Report.Write("security", "enumeration", $"""
            ### User enumeration through login ({Samples} attempts of each kind, interleaved)

            Answers: {string.Join(", ", known.Concat(unknown).Select(a => a.Body).Distinct())} (bodies without `traceId` and `instance`).

            {Report.Table(["case", "min", "p50", "p90", "p99", "max", "mean"],
            [
                ["known address, wrong password", .. knownMs.Row()],
                ["unknown address", .. unknownMs.Row()],
            ])}
            Shift of the medians: {shiftOfMedians:0.0} ms ({100 * shiftOfMedians / Math.Max(knownMs.Median, unknownMs.Median):0}% of the larger).
            Registration answers 409 for a taken address by design (README: the sign-up form must say so); the gateway limits it to 5 a minute per address.
            """);
        Assert.Single(known.Concat(unknown).Select(a => a.Body).Distinct());
        Assert.True(shiftOfMedians < 0.25 * Math.Max(knownMs.Median, unknownMs.Median),
            $"medians {knownMs.Median:0.0} ms (known) and {unknownMs.Median:0.0} ms (unknown) differ by more than a quarter");
    }

    private async Task<(string Body, TimeSpan Elapsed)> LoginAsync(string email, string password)
    {
        using var request = platform.Request(HttpMethod.Post, "/api/auth/login", platform.NewClientAddress());
        request.Content = JsonContent.Create(new { email, password });
        var clock = Stopwatch.StartNew();
        using var answer = await platform.Client.SendAsync(request);
        var body = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!.AsObject();
        clock.Stop();
        body.Remove("traceId");
        body.Remove("instance");
        return ($"{(int)answer.StatusCode} {answer.Content.Headers.ContentType} {body.ToJsonString()}", clock.Elapsed);
    }

    private static TimingDistribution Distribution(List<(string Body, TimeSpan Elapsed)> samples) =>
        new([.. samples.Select(s => s.Elapsed.TotalMilliseconds).Order()]);

    private sealed record TimingDistribution(double[] Sorted)
    {
        public double Median => At(0.5);

        public double At(double quantile) => Sorted[(int)Math.Min(Sorted.Length - 1, Math.Ceiling(quantile * Sorted.Length) - 1)];

        public object[] Row() => [.. new[] { Sorted[0], At(0.5), At(0.9), At(0.99), Sorted[^1], Sorted.Average() }.Select(ms => (object)$"{ms:0.0} ms")];
    }
}
