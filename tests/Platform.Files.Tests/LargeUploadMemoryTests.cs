using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Xunit.Abstractions;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>
/// Memory stays bounded whatever the size: the service runs in this process, so its resident set is this process's.
/// A gigabyte goes up and comes back while a sampler records the peak of VmRSS.
/// </summary>
[Collection(FilesTierCollection.Name)]
public sealed class LargeUploadMemoryTests(FilesTierFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private const long GiB = 1024L * 1024 * 1024;
    private const long MiB = 1024L * 1024;
    private FilesPlatform platform = null!;
    private FilesClient user = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_large", new Dictionary<string, string?>
        {
            ["Files:MaxFileBytes"] = (2 * GiB).ToString(CultureInfo.InvariantCulture),
            ["Files:QuotaBytesPerUser"] = (4 * GiB).ToString(CultureInfo.InvariantCulture),
        });
        user = await platform.NewUserAsync();
    }

    public async Task DisposeAsync()
    {
        user.Dispose();
        await platform.DisposeAsync();
    }

    [Fact]
    public async Task A_1_GiB_upload_and_download_raise_the_service_resident_set_by_less_than_64_MiB()
    {
        // Warm up every path once (JIT, pools, connections) so the baseline is the service at rest, not at birth.
        using (var warmUp = new GeneratedContentStream(8 * MiB, seed: 1))
        {
            var warm = await UploadAsync(warmUp);
            await DownloadSha256Async(warm.Id);
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = ResidentSet.BytesOf(Environment.ProcessId);

        // What the service holds, not what the GC has yet to reclaim: in a process that has run the rest of the suite
        // the GC lets gen0 grow to tens of MiB, and a download's garbage (~30 MiB per GiB, most of it Kestrel's and
        // HttpClient's per-write state) showed in VmRSS until it ran (+49 to +61 MiB; +23 with DOTNET_GCgen0size=8 MiB).
        // A gen0 collection every 100 ms bounds that garbage; a file held in memory would still show whole.
        using var collector = new Timer(_ => GC.Collect(0), null, 100, 100);
        using var sampler = new ResidentSet(Environment.ProcessId);
        using var sent = new GeneratedContentStream(GiB, seed: 1234);
        var clock = Stopwatch.StartNew();
        var file = await UploadAsync(sent);
        var uploadTime = clock.Elapsed;
        var peakAfterUpload = sampler.Peak;
        clock.Restart();
        var received = await DownloadSha256Async(file.Id);
        var downloadTime = clock.Elapsed;
        var peak = sampler.Peak;

        output.WriteLine($"VmRSS baseline {baseline / MiB} MiB; peak during upload {peakAfterUpload / MiB} MiB (+{(peakAfterUpload - baseline) / MiB} MiB); " +
                         $"peak overall {peak / MiB} MiB (+{(peak - baseline) / MiB} MiB); 1 GiB upload {uploadTime.TotalSeconds:0.0} s, download {downloadTime.TotalSeconds:0.0} s");
        Assert.Equal((GiB, sent.Sha256Hex), (file.Size, file.Sha256));
        Assert.Equal(sent.Sha256Hex, received);
        Assert.True(peak - baseline < 64 * MiB, $"VmRSS rose by {(peak - baseline) / MiB} MiB");

        using var deleted = await user.DeleteAsync($"/api/files/{file.Id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    private async Task<UploadedFile> UploadAsync(GeneratedContentStream content)
    {
        var body = new StreamContent(content, 64 * 1024);
        body.Headers.ContentLength = content.Length;
        using var response = await user.UploadRawAsync(body, "big.bin");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<UploadedFile>())!;
    }

    private async Task<string> DownloadSha256Async(Guid id)
    {
        using var response = await user.SendAsync(HttpMethod.Get, $"/api/files/{id}/content", null, completion: HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await Hashes.OfStreamAsync(await response.Content.ReadAsStreamAsync())).Sha256;
    }
}
