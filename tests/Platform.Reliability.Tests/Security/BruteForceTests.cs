using System.Net;
using System.Net.Http.Json;

namespace Platform.Reliability.Tests.Security;

/// <summary>Password guessing against one account from one address and from many, and against many accounts from one address.</summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class BruteForceTests(ReliabilityPlatform platform)
{
    /// <summary>Auth's cap on one account's failures from all addresses in 15 minutes (LoginThrottle.AccountFailures).</summary>
    private const int AccountCap = 100;
    private const int FromOneAddress = 8;

    [Fact]
    [Trait("Category", "Drill")]
    public async Task Guessing_one_accounts_password_from_one_address_blocks_that_address_and_not_the_owner_elsewhere()
    {
        var victim = await platform.SignUpAsync("brute");
        var attacker = platform.NewClientAddress();
        var answers = new List<(HttpStatusCode Status, TimeSpan? RetryAfter)>();
        for (var i = 0; i < FromOneAddress; i++)
        {
            answers.Add(await LoginAsync(victim.Email, $"guess-Number-{i}", attacker));
        }
        var attackerWithTheRightPassword = await LoginAsync(victim.Email, ReliabilityPlatform.Password, attacker);
        var ownerElsewhere = await LoginAsync(victim.Email, ReliabilityPlatform.Password, platform.NewClientAddress());

        Report.Write("security", "brute-force-account", $"""
            ### Brute force against one account from one address ({FromOneAddress} wrong passwords)

            {Report.Table(["attempt", "answer", "Retry-After"], answers.Select((a, i) => (IReadOnlyList<object>)[i + 1, (int)a.Status, a.RetryAfter is { } r ? Report.Seconds(r) : "–"]))}
            The right password from that address while it is blocked: {(int)attackerWithTheRightPassword.Status}; the owner from another address: {(int)ownerElsewhere.Status}.
            """);
        Assert.All(answers.Take(6), a => Assert.Equal(HttpStatusCode.Unauthorized, a.Status));
        Assert.Equal(HttpStatusCode.TooManyRequests, answers[6].Status); // within the sixth failure's block
        Assert.Equal(HttpStatusCode.OK, ownerElsewhere.Status);
    }

    [Fact]
    [Trait("Category", "Drill")]
    public async Task Guessing_one_accounts_password_from_many_addresses_closes_the_account_at_its_cap_even_for_the_right_password()
    {
        var victim = await platform.SignUpAsync("brute-many");
        var statuses = new HttpStatusCode[AccountCap];
        await Parallel.ForAsync(0, AccountCap, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
            statuses[i] = (await LoginAsync(victim.Email, $"guess-Number-{i}", platform.NewClientAddress())).Status);
        var rightPassword = await LoginAsync(victim.Email, ReliabilityPlatform.Password, platform.NewClientAddress());

        Report.Write("security", "brute-force-account-spread", $"""
            ### Brute force against one account from many addresses ({AccountCap} wrong passwords, each from a new address)

            Answers: {string.Join(" ", statuses.GroupBy(s => (int)s).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"))}.
            The right password from yet another address afterwards: {(int)rightPassword.Status}, Retry-After {(rightPassword.RetryAfter is { } r ? Report.Seconds(r) : "–")} (the rest of the account's 15-minute window).
            """);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, rightPassword.Status);
        Assert.InRange(rightPassword.RetryAfter!.Value, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(15));
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
