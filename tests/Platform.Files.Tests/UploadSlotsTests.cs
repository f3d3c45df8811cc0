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
