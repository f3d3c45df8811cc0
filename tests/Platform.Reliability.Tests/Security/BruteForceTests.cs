using System.Net;
using System.Net.Http.Json;

namespace Platform.Reliability.Tests.Security;

/// <summary>Password guessing against one account from many addresses, and against many accounts from one address.</summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class BruteForceTests(ReliabilityPlatform platform)
{
    private const int Guesses = 12;

    [Fact]
    [Trait("Category", "Drill")]
    public async Task Guessing_one_accounts_password_from_many_addresses_is_throttled_after_five_failures_even_for_the_right_password()
    {
        var victim = await platform.SignUpAsync("brute");
        var answers = new List<(HttpStatusCode Status, TimeSpan? RetryAfter)>();
        for (var i = 0; i < Guesses; i++)
        {
            answers.Add(await LoginAsync(victim.Email, $"guess-Number-{i}", platform.NewClientAddress()));
        }
        var rightPasswordWhileBlocked = await LoginAsync(victim.Email, ReliabilityPlatform.Password, platform.NewClientAddress());

        Report.Write("security", "brute-force-account", $"""
            ### Brute force against one account ({Guesses} wrong passwords, each from a new address)

            {Report.Table(["attempt", "answer", "Retry-After"], answers.Select((a, i) => (IReadOnlyList<object>)[i + 1, (int)a.Status, a.RetryAfter is { } r ? Report.Seconds(r) : "–"]))}
            The right password while blocked: {(int)rightPasswordWhileBlocked.Status}.
            """);
        Assert.All(answers.Take(5), a => Assert.Equal(HttpStatusCode.Unauthorized, a.Status));
        Assert.All(answers.Skip(6), a => Assert.Equal(HttpStatusCode.TooManyRequests, a.Status));
        Assert.Equal(HttpStatusCode.TooManyRequests, rightPasswordWhileBlocked.Status);
    }

    [Fact]
    [Trait("Category", "Drill")]
    public async Task Guessing_many_accounts_from_one_address_is_limited_by_the_gateway_to_ten_a_minute()
    {
        var attacker = platform.NewClientAddress();
        var answers = new List<(HttpStatusCode Status, TimeSpan? RetryAfter)>();
        for (var i = 0; i < 15; i++)
        {
            answers.Add(await LoginAsync($"spray-{i}-{Guid.NewGuid():N}@example.org", "Spring2026!", attacker));
        }

        Report.Write("security", "brute-force-address", $"""
            ### Password spraying from one address (15 accounts, one guess each)

            {Report.Table(["attempt", "answer", "Retry-After"], answers.Select((a, i) => (IReadOnlyList<object>)[i + 1, (int)a.Status, a.RetryAfter is { } r ? Report.Seconds(r) : "–"]))}
            """);
        Assert.All(answers.Take(10), a => Assert.Equal(HttpStatusCode.Unauthorized, a.Status));
        Assert.All(answers.Skip(10), a => Assert.Equal(HttpStatusCode.TooManyRequests, a.Status));
        Assert.All(answers.Skip(10), a => Assert.NotNull(a.RetryAfter));
    }

    private async Task<(HttpStatusCode Status, TimeSpan? RetryAfter)> LoginAsync(string email, string password, string address)
    {
        using var request = platform.Request(HttpMethod.Post, "/api/auth/login", address);
        request.Content = JsonContent.Create(new { email, password });
        using var answer = await platform.Client.SendAsync(request);
        return (answer.StatusCode, answer.Headers.RetryAfter?.Delta);
    }
}
