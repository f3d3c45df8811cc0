using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Authentication;
using Platform.Testing;

namespace Platform.Libraries.Tests.Authentication;

/// <summary>
/// The fallback's conversation with auth's <c>/internal/revocations</c>, against a server that answers as auth does and
/// records what it was asked: the whole list once, then only what is new since the last answer (less the overlap).
/// </summary>
public sealed class RevocationsFromAuthTests : IAsyncLifetime
{
    private static readonly DateTimeOffset ReadAt = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private readonly ConcurrentQueue<string> asked = new();
    private readonly ConcurrentQueue<RevocationList> answers = new();
    private readonly ManualTimeProvider clock = new();
    private TestApp auth = null!;
    private ServiceProvider services = null!;
    private RevokedSessions revoked = null!;
    private RevocationsFromAuth fallback = null!;

    public async Task InitializeAsync()
    {
        auth = await TestApp.StartAsync(map: app => app.MapGet(RevocationList.Path, (HttpContext context) =>
        {
            asked.Enqueue(context.Request.QueryString.Value ?? "");
            return answers.TryDequeue(out var answer) ? Results.Ok(answer) : Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }));
        services = new ServiceCollection()
            .AddLogging()
            .AddHttpClient()
            .AddSingleton(Options.Create(new AuthOptions { Issuer = TokenSpec.TrustedIssuer, JwksUri = new Uri(auth.Client.BaseAddress!, "/.well-known/jwks.json") }))
            .AddSingleton<TimeProvider>(clock)
            .AddSingleton(new RevokedSessions(TimeProvider.System))
            .AddSingleton<RevocationsFromAuth>()
            .BuildServiceProvider();
        revoked = services.GetRequiredService<RevokedSessions>();
        fallback = services.GetRequiredService<RevocationsFromAuth>();
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await auth.DisposeAsync();
    }

    [Fact]
    public async Task The_first_fetch_takes_the_whole_list_and_the_next_only_what_is_new_since_its_answer()
    {
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        answers.Enqueue(new RevocationList([new RevocationEntry(first, DateTimeOffset.UtcNow.AddMinutes(5))], ReadAt));
        answers.Enqueue(new RevocationList([new RevocationEntry(second, DateTimeOffset.UtcNow.AddMinutes(5))], ReadAt.AddSeconds(5)));

        Assert.True(await fallback.FetchAsync(CancellationToken.None));
        Assert.True(await fallback.FetchAsync(CancellationToken.None));

        Assert.Equal(["", "?since=2026-12-07T09%3A59%3A45.0000000%2B00%3A00"], asked);
        Assert.True(revoked.IsRevoked(first));
        Assert.True(revoked.IsRevoked(second));
    }

    [Fact]
    public async Task A_failed_fetch_keeps_the_last_answers_time_so_nothing_between_is_skipped()
    {
        answers.Enqueue(new RevocationList([], ReadAt));
        Assert.True(await fallback.FetchAsync(CancellationToken.None));

        Assert.False(await fallback.FetchAsync(CancellationToken.None)); // 503: no answer queued
        answers.Enqueue(new RevocationList([], ReadAt.AddSeconds(10)));
        Assert.True(await fallback.FetchAsync(CancellationToken.None));

        Assert.Equal(["", "?since=2026-12-07T09%3A59%3A45.0000000%2B00%3A00", "?since=2026-12-07T09%3A59%3A45.0000000%2B00%3A00"], asked);
    }

    /// <summary>The overlap trusts auth pods' clocks and short transactions; a whole list a minute bounds what it could miss.</summary>
    [Fact]
    public async Task The_whole_list_is_taken_again_every_minute()
    {
        for (var i = 0; i < 4; i++)
        {
            answers.Enqueue(new RevocationList([], ReadAt.AddSeconds(30 * i)));
        }

        Assert.True(await fallback.FetchAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.True(await fallback.FetchAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.True(await fallback.FetchAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(await fallback.FetchAsync(CancellationToken.None));

        Assert.Equal(["", "?since=2026-12-07T09%3A59%3A45.0000000%2B00%3A00", "", "?since=2026-12-07T10%3A00%3A45.0000000%2B00%3A00"], asked);
    }

    [Fact]
    public async Task An_auth_that_does_not_say_when_it_read_is_asked_for_the_whole_list_each_time()
    {
        answers.Enqueue(new RevocationList([]));
        answers.Enqueue(new RevocationList([]));

        Assert.True(await fallback.FetchAsync(CancellationToken.None));
        Assert.True(await fallback.FetchAsync(CancellationToken.None));

        Assert.Equal(["", ""], asked);
    }
}
