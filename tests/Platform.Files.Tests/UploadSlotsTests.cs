using System.Net;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>
/// An upload holds a connection of the primary's pool for as long as its client takes to send the body. Here the pool
/// has two connections and one upload may run at a time: slow clients must not leave the instance's downloads
/// without a connection.
/// </summary>
[Collection(FilesTierCollection.Name)]
public sealed class UploadSlotsTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private const string Database = "files_upload_slots";
    private FilesPlatform platform = null!;
    private FilesClient user = null!;

    public async Task InitializeAsync()
    {
        const string pool = ";Minimum Pool Size=0;Maximum Pool Size=2";
        platform = await FilesPlatform.StartAsync(fixture.Tier, Database, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = fixture.Tier.PostgresPrimary + pool,
            ["ConnectionStrings:PostgresReplica"] = fixture.Tier.PostgresReplica + pool,
            ["Files:MaxConcurrentUploads"] = "1",
            ["Files:MaxUploadWaitSeconds"] = "1",
            ["Files:MaxConcurrentUploadsPerUser"] = "2", // one user here; the bound of the instance is what is tested
        });
        user = await platform.NewUserAsync();
    }

    public async Task DisposeAsync()
    {
        user.Dispose();
        await platform.DisposeAsync();
    }

    /// <summary>
    /// A download reads a segment at a time and gives the connection back before sending it, so clients that stop
    /// reading hold none: with three downloads stalled mid-file and a pool of two, another download and a delete are
    /// served at once. Before, each stalled download held its connection to the end, and the others waited for the
    /// pool until they failed with 503. Then each stalled download is read to the end, across many segments, intact.
    /// </summary>
    [Fact]
    public async Task Stalled_downloads_hold_no_connection_and_read_back_intact()
    {
        var content = GeneratedContentStream.Bytes(24 * 1024 * 1024, seed: 5);
        var large = await user.UploadOkAsync(content, "large.bin", "application/octet-stream");
        var small = await user.UploadOkAsync("small"u8.ToArray(), "small.txt");
        var doomed = await user.UploadOkAsync("doomed"u8.ToArray(), "doomed.txt");

        var stalled = new List<(HttpResponseMessage Response, Stream Body)>();
        for (var i = 0; i < 3; i++)
        {
            var response = await user.SendAsync(HttpMethod.Get, $"/api/files/{large.Id}/content", null, completion: HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadAsStreamAsync();
            await body.ReadExactlyAsync(new byte[64 * 1024]);
            stalled.Add((response, body));
        }
        try
        {
            using (var download = await user.GetAsync($"/api/files/{small.Id}/content").WaitAsync(TimeSpan.FromSeconds(10)))
            {
                Assert.Equal(HttpStatusCode.OK, download.StatusCode);
                Assert.Equal("small", await download.Content.ReadAsStringAsync());
            }
            using (var deleted = await user.DeleteAsync($"/api/files/{doomed.Id}").WaitAsync(TimeSpan.FromSeconds(10)))
            {
                Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            }

            foreach (var (_, body) in stalled)
            {
                using var rest = new MemoryStream();
                await body.CopyToAsync(rest);
                Assert.Equal(content.Length - 64 * 1024, rest.Length);
                Assert.True(content.AsSpan(64 * 1024).SequenceEqual(rest.GetBuffer().AsSpan(0, (int)rest.Length)), "the download's bytes differ from the upload's");
            }
        }
        finally
        {
            foreach (var (response, body) in stalled)
            {
                await body.DisposeAsync();
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_stalled_upload_leaves_downloads_a_connection_and_an_upload_past_the_bound_is_refused_503()
    {
        var stored = await user.UploadOkAsync("already here"u8.ToArray());
        var first = new StalledContent(64 * 1024);
        var firstUpload = user.UploadRawAsync(first, "first.bin");
        await first.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await RunningCopies.WaitForAsync(fixture.Tier, Database, 1);
        var second = new StalledContent(64 * 1024);
        var secondUpload = user.UploadRawAsync(second, "second.bin");

        // Before uploads had a bound, the second took the pool's last connection and this waited for one until it failed.
        using (var download = await user.GetAsync($"/api/files/{stored.Id}/content").WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal("already here", await download.Content.ReadAsStringAsync());
        }
        // The answer is sent after the 1 s wait without reading the body; this client reads it once its body is sent.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        second.Release();
        using (var refused = await secondUpload.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            var problem = await FilesClient.ProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "https://platform.dev/problems/overloaded");
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
            Assert.Contains("upload", problem.GetProperty("title").GetString(), StringComparison.OrdinalIgnoreCase);
        }
        first.Release();
        using (var done = await firstUpload.WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(HttpStatusCode.Created, done.StatusCode);
        }
        // The slot is free again.
        await user.UploadOkAsync("after"u8.ToArray(), "after.txt");
        Assert.Equal(3, (await user.ListAllAsync()).Count);
    }
}
