using System.Net;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>
/// A user may have a quarter of an instance's upload slots (at least 2) running or waiting at once: one user's slow
/// uploads must not hold every slot and turn everybody else's away.
/// </summary>
[Collection(FilesTierCollection.Name)]
public sealed class UploadsPerUserTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private const string Database = "files_uploads_per_user";
    private FilesPlatform platform = null!;
    private FilesClient busy = null!;
    private FilesClient other = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, Database, new Dictionary<string, string?>
        {
            // Three slots, so two per user by default; the wait is long, so a refusal for want of a slot would take 30 s.
            ["Files:MaxConcurrentUploads"] = "3",
            ["Files:MaxUploadWaitSeconds"] = "30",
        });
        busy = await platform.NewUserAsync();
        other = await platform.NewUserAsync();
    }

    public async Task DisposeAsync()
    {
        busy.Dispose();
        other.Dispose();
        await platform.DisposeAsync();
    }

    [Fact]
    public async Task A_users_upload_past_its_share_is_refused_429_at_once_while_another_users_upload_gets_the_free_slot()
    {
        var stalled = new[] { new StalledContent(64 * 1024), new StalledContent(64 * 1024) };
        var running = stalled.Select((content, i) => busy.UploadRawAsync(content, $"slow-{i}.bin")).ToArray();
        await RunningCopies.WaitForAsync(fixture.Tier, Database, 2);

        var started = DateTime.UtcNow;
        using (var refused = await busy.UploadRawAsync("third"u8.ToArray(), "third.txt").WaitAsync(TimeSpan.FromSeconds(10)))
        {
            var problem = await FilesClient.ProblemAsync(refused, HttpStatusCode.TooManyRequests, "https://platform.dev/problems/too-many-requests");
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After");
            Assert.Contains("2 uploads", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "the refusal waited for a slot instead of answering at once");
        // The instance's third slot is still free for everybody else.
        await other.UploadOkAsync("someone else's"u8.ToArray(), "other.txt");

        stalled[0].Release();
        using (var done = await running[0].WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(HttpStatusCode.Created, done.StatusCode);
        }
        // One of the user's own uploads ended: the next one gets in.
        await busy.UploadOkAsync("now"u8.ToArray(), "now.txt");
        stalled[1].Abandon();
        await Assert.ThrowsAnyAsync<Exception>(() => running[1].WaitAsync(TimeSpan.FromSeconds(30)));
        // A client that gave up gives its place back too: two at once get in (as soon as the service saw it go).
        await Poll.UntilAsync(async () =>
        {
            var responses = await Task.WhenAll(busy.UploadRawAsync("a"u8.ToArray(), "a.txt"), busy.UploadRawAsync("b"u8.ToArray(), "b.txt"));
            var statuses = responses.Select(response => response.StatusCode).ToList();
            Array.ForEach(responses, response => response.Dispose());
            return statuses;
        }, statuses => statuses.All(status => status == HttpStatusCode.Created), TimeSpan.FromSeconds(10), "two uploads at once after the abandoned one");

        using var http = new HttpClient { BaseAddress = platform.Files.Address };
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Matches(@"(?m)^files_uploads_total\{[^}]*result=""user_limit""[^}]*\} [1-9][0-9]*$", metrics);
        Assert.Matches(@"(?m)^files_uploads_total\{[^}]*result=""abandoned""[^}]*\} 1$", metrics);
    }
}
