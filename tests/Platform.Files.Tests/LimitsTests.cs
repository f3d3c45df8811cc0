using System.Net;
using System.Net.Http.Headers;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>A 1 MiB per-file maximum and a 3 MiB quota, so the limits are reached with small uploads.</summary>
[Collection(FilesTierCollection.Name)]
public sealed class LimitsTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private const int MaxFile = 1024 * 1024;
    private const int Quota = 3 * MaxFile;
    private FilesPlatform platform = null!;
    private FilesClient user = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_limits", new Dictionary<string, string?>
        {
            ["Files:MaxFileBytes"] = MaxFile.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Files:QuotaBytesPerUser"] = Quota.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Files:MaxConcurrentUploadsPerUser"] = "4", // the race below is one user's four uploads at once
        });
        user = await platform.NewUserAsync();
    }

    public async Task DisposeAsync()
    {
        user.Dispose();
        await platform.DisposeAsync();
    }

    [Fact]
    public async Task A_file_of_exactly_the_maximum_size_is_stored()
    {
        using var response = await user.UploadRawAsync(new StreamContent(new GeneratedContentStream(MaxFile)), "max.bin");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task A_raw_upload_declaring_more_than_the_maximum_is_413_and_nothing_is_stored()
    {
        var before = await platform.AllStoredRowsAsync();

        using var response = await user.UploadRawAsync(new ByteArrayContent(new byte[MaxFile + 1]), "big.bin");

        await FilesClient.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "https://platform.dev/problems/payload-too-large");
        Assert.Equal(before, await platform.AllStoredRowsAsync());
    }

    [Fact]
    public async Task A_streamed_raw_upload_passing_the_maximum_is_cut_off_with_413_and_nothing_is_stored()
    {
        var before = await platform.AllStoredRowsAsync();
        var content = new StreamContent(new GeneratedContentStream(MaxFile + 1));
        Assert.Null(content.Headers.ContentLength); // chunked: the service finds out only while reading

        using var response = await user.UploadRawAsync(content, "big.bin");

        await FilesClient.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "https://platform.dev/problems/payload-too-large");
        Assert.Equal(before, await platform.AllStoredRowsAsync());
    }

    [Fact]
    public async Task A_multipart_upload_passing_the_maximum_is_413_and_nothing_is_stored()
    {
        var before = await platform.AllStoredRowsAsync();

        using var response = await user.UploadMultipartAsync(new StreamContent(new GeneratedContentStream(2L * MaxFile)), "big.bin");

        await FilesClient.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "https://platform.dev/problems/payload-too-large");
        Assert.Equal(before, await platform.AllStoredRowsAsync());
    }

    [Fact]
    public async Task An_upload_that_would_pass_the_quota_is_413_quota_exceeded_until_space_is_freed()
    {
        var files = new List<UploadedFile>();
        for (var i = 0; i < 3; i++)
        {
            files.Add(await user.UploadOkAsync(new byte[MaxFile], $"part{i}.bin"));
        }
        var before = await platform.AllStoredRowsAsync();

        using var overQuota = await user.UploadRawAsync(new StreamContent(new GeneratedContentStream(1)), "one-more.bin");

        await FilesClient.ProblemAsync(overQuota, HttpStatusCode.RequestEntityTooLarge, "https://platform.dev/problems/quota-exceeded");
        Assert.Equal(before, await platform.AllStoredRowsAsync());
        using var deleted = await user.DeleteAsync($"/api/files/{files[0].Id}");
        using var afterDelete = await user.UploadRawAsync(new ByteArrayContent([1]), "one-more.bin");
        Assert.Equal(HttpStatusCode.Created, afterDelete.StatusCode);
    }

    /// <summary>
    /// The request declares a file that fits the per-file maximum but not what is left of the quota: the answer comes
    /// before the body, which this client never sends. Before, the service read the body to find out, and this client
    /// got nothing until Kestrel gave up on it.
    /// </summary>
    [Fact]
    public async Task A_raw_upload_declaring_more_than_the_remaining_quota_is_413_quota_exceeded_before_its_body_is_sent()
    {
        await user.UploadOkAsync(new byte[MaxFile], "a.bin");
        await user.UploadOkAsync(new byte[MaxFile], "b.bin");
        await user.UploadOkAsync(new byte[MaxFile / 2], "c.bin");
        var before = await platform.AllStoredRowsAsync();

        var (status, _, body) = await RawRequest.SendAndStallAsync(platform.Files.Address,
            $"POST /api/files?name=d.bin HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {user.AccessToken}\r\n"
            + $"Content-Type: application/octet-stream\r\nContent-Length: {MaxFile}", "", TimeSpan.FromSeconds(10));

        Assert.Equal(413, status);
        Assert.Contains("\"https://platform.dev/problems/quota-exceeded\"", body, StringComparison.Ordinal);
        Assert.Equal(before, await platform.AllStoredRowsAsync());
        using var fits = await user.UploadRawAsync(new ByteArrayContent(new byte[MaxFile / 2]), "d.bin");
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
    }

    /// <summary>A multipart body's Content-Length counts its boundaries and headers too: they are allowed for (1 MiB).</summary>
    [Fact]
    public async Task A_multipart_upload_of_exactly_the_remaining_quota_is_stored_and_one_declaring_far_more_is_refused_before_its_file_is_sent()
    {
        await user.UploadOkAsync(new byte[MaxFile], "a.bin");
        await user.UploadOkAsync(new byte[MaxFile], "b.bin");
        await user.UploadOkAsync(new byte[MaxFile / 2], "c.bin");
        const string boundary = "b0undary";
        var head = $"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n";

        // 1.75 MiB declared: at least 0.75 MiB of file, within the per-file maximum and over the 0.5 MiB left.
        var (status, _, body) = await RawRequest.SendAndStallAsync(platform.Files.Address,
            $"POST /api/files HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {user.AccessToken}\r\n"
            + $"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {MaxFile + MaxFile * 3 / 4}", head, TimeSpan.FromSeconds(10));

        Assert.Equal(413, status);
        Assert.Contains("\"https://platform.dev/problems/quota-exceeded\"", body, StringComparison.Ordinal);
        using var fits = await user.UploadMultipartAsync(new ByteArrayContent(new byte[MaxFile / 2]), "d.bin");
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        Assert.Equal(Quota, (await user.ListAllAsync()).Sum(f => f.Size));
    }

    [Fact]
    public async Task The_quota_is_per_user()
    {
        for (var i = 0; i < 3; i++)
        {
            await user.UploadOkAsync(new byte[MaxFile], $"part{i}.bin");
        }
        using var other = await platform.NewUserAsync();

        using var response = await other.UploadRawAsync(new ByteArrayContent(new byte[MaxFile]), "mine.bin");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Concurrent_uploads_cannot_together_pass_the_quota()
    {
        await user.UploadOkAsync(new byte[MaxFile], "a.bin");
        await user.UploadOkAsync(new byte[MaxFile], "b.bin");

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
        {
            using var response = await user.UploadRawAsync(new StreamContent(new GeneratedContentStream(MaxFile)) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } }, $"race{i}.bin");
            return response.StatusCode;
        }));

        Assert.Single(answers, status => status == HttpStatusCode.Created);
        Assert.Equal(3, answers.Count(status => status == HttpStatusCode.RequestEntityTooLarge));
        Assert.Equal(Quota, (await user.ListAllAsync()).Sum(f => f.Size));
    }
}
