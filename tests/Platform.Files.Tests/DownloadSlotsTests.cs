using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>
/// A download holds a segment's buffer while its client receives it, and no connection, so nothing but its slot bounds
/// how many a pod sends at once. Here one download may be sent at a time and none waits: a client that stops reading
/// holds the only slot.
/// </summary>
[Collection(FilesTierCollection.Name)]
public sealed class DownloadSlotsTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private const int LargeSize = 24 * 1024 * 1024;
    private FilesPlatform platform = null!;
    private FilesClient user = null!;
    private UploadedFile large = null!;
    private UploadedFile small = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_download_slots", new Dictionary<string, string?>
        {
            ["Files:MaxConcurrentDownloads"] = "1",
            ["Files:MaxConcurrentDownloadsPerUser"] = "10", // the pod's bound is the one tested here, not the user's share
            ["Files:MaxDownloadWaitSeconds"] = "0",
        });
        user = await platform.NewUserAsync();
        large = await user.UploadOkAsync(GeneratedContentStream.Bytes(LargeSize, seed: 7), "large.bin", "application/octet-stream");
        small = await user.UploadOkAsync("small"u8.ToArray(), "small.txt");
    }

    public async Task DisposeAsync()
    {
        user.Dispose();
        await platform.DisposeAsync();
    }

    [Fact]
    public async Task A_stalled_download_holds_the_only_slot_another_is_refused_503_and_the_slot_comes_back_when_its_client_goes()
    {
        var stalled = await StartStalledDownloadAsync();
        try
        {
            using var refused = await user.GetAsync($"/api/files/{small.Id}/content").WaitAsync(TimeSpan.FromSeconds(10));

            var problem = await FilesClient.ProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "https://platform.dev/problems/overloaded");
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
            Assert.Contains("download", problem.GetProperty("title").GetString(), StringComparison.OrdinalIgnoreCase);
            Assert.Null(refused.Content.Headers.ContentDisposition);
            Assert.Equal(1, await RefusedAsync(platform, "busy"));
            Assert.Equal(0, await RefusedAsync(platform, "user_limit"));
        }
        finally
        {
            await stalled.Body.DisposeAsync();
            stalled.Response.Dispose();
        }

        // The server learns of the disconnect at its next write; until then the slot is still held.
        var served = await Poll.UntilAsync(async () =>
        {
            using var download = await user.GetAsync($"/api/files/{small.Id}/content");
            return download.StatusCode == HttpStatusCode.OK ? await download.Content.ReadAsStringAsync() : null;
        }, body => body is not null, TimeSpan.FromSeconds(20), "a download once the stalled one's client has gone");
        Assert.Equal("small", served);
        using var again = await user.GetAsync($"/api/files/{small.Id}/content");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task A_user_with_their_share_of_downloads_in_flight_gets_429_while_another_user_is_served()
    {
        await using var shared = await FilesPlatform.StartAsync(fixture.Tier, "files_download_shares", new Dictionary<string, string?>
        {
            ["Files:MaxConcurrentDownloads"] = "4",
            ["Files:MaxConcurrentDownloadsPerUser"] = "1",
            ["Files:MaxDownloadWaitSeconds"] = "0",
        });
        using var greedy = await shared.NewUserAsync();
        using var other = await shared.NewUserAsync();
        var greedyLarge = await greedy.UploadOkAsync(GeneratedContentStream.Bytes(LargeSize, seed: 9), "large.bin", "application/octet-stream");
        var greedySmall = await greedy.UploadOkAsync("mine"u8.ToArray(), "mine.txt");
        var othersFile = await other.UploadOkAsync("theirs"u8.ToArray(), "theirs.txt");
        var stalled = await StartStalledDownloadAsync(greedy, greedyLarge);
        try
        {
            using var refused = await greedy.GetAsync($"/api/files/{greedySmall.Id}/content");
            using var served = await other.GetAsync($"/api/files/{othersFile.Id}/content");
            using var head = await greedy.SendAsync(HttpMethod.Head, $"/api/files/{greedySmall.Id}/content", null);

            await FilesClient.ProblemAsync(refused, HttpStatusCode.TooManyRequests, "https://platform.dev/problems/too-many-requests");
            Assert.Equal(HttpStatusCode.OK, head.StatusCode); // a HEAD takes no share of the user's
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("theirs", await served.Content.ReadAsStringAsync());
            // Counted apart from the pod's own refusals, which FilesDownloadsRefused alerts on.
            Assert.Equal(1, await RefusedAsync(shared, "user_limit"));
            Assert.Equal(0, await RefusedAsync(shared, "busy"));
        }
        finally
        {
            await stalled.Body.DisposeAsync();
            stalled.Response.Dispose();
        }

        // The share comes back with the slot once the server learns its client has gone.
        await Poll.UntilAsync(async () =>
        {
            using var download = await greedy.GetAsync($"/api/files/{greedySmall.Id}/content");
            return download.StatusCode;
        }, status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(20), "the user's download once the stalled one's client has gone");
    }

    [Fact]
    public async Task Answers_without_a_body_take_no_slot()
    {
        var stalled = await StartStalledDownloadAsync();
        try
        {
            var path = $"/api/files/{small.Id}/content";
            var etag = $"\"{small.Sha256}\"";
            using (var notModified = await user.GetAsync(path, h => h.TryAddWithoutValidation("If-None-Match", etag)))
            {
                Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            }
            using (var failed = await user.GetAsync(path, h => h.TryAddWithoutValidation("If-Match", "\"0000\"")))
            {
                Assert.Equal(HttpStatusCode.PreconditionFailed, failed.StatusCode);
            }
            using (var unsatisfiable = await user.GetAsync(path, h => h.TryAddWithoutValidation("Range", "bytes=100-")))
            {
                Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
            }
            using (var conditionalUnsatisfiable = await user.GetAsync(path, h =>
            {
                h.TryAddWithoutValidation("Range", "bytes=100-");
                h.TryAddWithoutValidation("If-Range", etag);
            }))
            {
                Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, conditionalUnsatisfiable.StatusCode);
            }
            using (var head = await user.SendAsync(HttpMethod.Head, path, null))
            {
                Assert.Equal(HttpStatusCode.OK, head.StatusCode);
                Assert.Equal(small.Size, head.Content.Headers.ContentLength);
            }
            using var whole = await user.GetAsync(path);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, whole.StatusCode);
        }
        finally
        {
            await stalled.Body.DisposeAsync();
            stalled.Response.Dispose();
        }
    }

    /// <summary><c>files_downloads_refused_total</c> of one reason, as the service exports it; the series must exist.</summary>
    private static async Task<long> RefusedAsync(FilesPlatform service, string reason)
    {
        using var http = new HttpClient { BaseAddress = service.Files.Address };
        var metrics = await http.GetStringAsync("/metrics");
        var series = Regex.Match(metrics, $$"""(?m)^files_downloads_refused_total\{[^}]*reason="{{reason}}"[^}]*\} (?<count>[0-9]+)$""");
        Assert.True(series.Success, $"no files_downloads_refused_total series with reason=\"{reason}\"");
        return long.Parse(series.Groups["count"].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>A download of the large file whose client has read its headers and a little of it, and reads no more.</summary>
    private Task<(HttpResponseMessage Response, Stream Body)> StartStalledDownloadAsync() => StartStalledDownloadAsync(user, large);

    private static async Task<(HttpResponseMessage Response, Stream Body)> StartStalledDownloadAsync(FilesClient client, UploadedFile file)
    {
        var response = await client.SendAsync(HttpMethod.Get, $"/api/files/{file.Id}/content", null, completion: HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStreamAsync();
        await body.ReadExactlyAsync(new byte[64 * 1024]);
        return (response, body);
    }
}
