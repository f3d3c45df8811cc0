using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Reliability.Tests.Security;

/// <summary>A stolen refresh token used after its owner (reuse), and one token raced by many requests at once.</summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class RefreshTokenAttackTests(ReliabilityPlatform platform)
{
    private const int Racers = 10;

    [Fact]
    [Trait("Category", "Drill")]
    public async Task A_spent_refresh_token_presented_again_revokes_the_whole_session()
    {
        var victim = await platform.SignUpAsync("reuse");
        var (rotated, pair) = await RefreshAsync(victim.RefreshToken);
        var newAccess = pair!.Value.GetProperty("accessToken").GetString()!;
        var newRefresh = pair.Value.GetProperty("refreshToken").GetString()!;

        var (replayed, _) = await RefreshAsync(victim.RefreshToken);
        var (ownersNext, _) = await RefreshAsync(newRefresh);
        var accessRefused = await Poll.UntilAsync(() => MeAsync(newAccess), status => status == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(2),
            "the session's access token to be refused");

        Report.Write("security", "refresh-reuse", $"""
            ### Refresh-token reuse

            {Report.Table(["step", "answer", "expected"],
            [
                ["owner refreshes (token spent)", (int)rotated, 200],
                ["attacker replays the spent token", (int)replayed, 401],
                ["owner's newest refresh token afterwards", (int)ownersNext, 401],
                ["the session's newest access token within 2 s", (int)accessRefused, 401],
            ])}
            """);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (rotated, replayed, ownersNext));
    }

    [Fact]
    [Trait("Category", "Drill")]
    public async Task One_refresh_token_raced_by_ten_requests_yields_at_most_one_new_pair_and_the_race_ends_the_session()
    {
        var victim = await platform.SignUpAsync("race");

        var answers = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => RefreshAsync(victim.RefreshToken)));
        var winners = answers.Where(a => a.Status == HttpStatusCode.OK).ToList();
        var winnerAfterwards = winners.Count == 1 ? (await RefreshAsync(winners[0].Pair!.Value.GetProperty("refreshToken").GetString()!)).Status : (HttpStatusCode?)null;

        Report.Write("security", "refresh-race", $"""
            ### Refresh-token race ({Racers} concurrent refreshes of one token)

            {Report.Table(["answers", "new pairs issued", "the winner's refresh token afterwards", "expected"],
            [[
                string.Join(" ", answers.GroupBy(a => (int)a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}")), winners.Count,
                winnerAfterwards is { } status ? (int)status : "–", "at most one pair; the losers are reuse, so the session ends",
            ]])}
            """);
        Assert.True(winners.Count <= 1, $"{winners.Count} new pairs from one refresh token");
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.OK), a => Assert.Equal(HttpStatusCode.Unauthorized, a.Status));
        if (winnerAfterwards is { } after)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, after);
        }
    }

    private async Task<(HttpStatusCode Status, JsonElement? Pair)> RefreshAsync(string refreshToken)
    {
        using var request = platform.Request(HttpMethod.Post, "/api/auth/refresh", platform.NewClientAddress());
        request.Content = JsonContent.Create(new { refreshToken });
        using var answer = await platform.Client.SendAsync(request);
        return (answer.StatusCode, answer.IsSuccessStatusCode ? await answer.Content.ReadFromJsonAsync<JsonElement>() : null);
    }

    private async Task<HttpStatusCode> MeAsync(string accessToken)
    {
        using var request = platform.Request(HttpMethod.Get, "/api/auth/me", platform.NewClientAddress(), accessToken);
        using var answer = await platform.Client.SendAsync(request);
        return answer.StatusCode;
    }
}
