using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;
using Xunit.Abstractions;

namespace Platform.Gateway.Tests;

/// <summary>
/// Bodies stream through the gateway both ways: a gigabyte passes while the gateway process's resident set barely moves.
/// A HEAD, which download managers send before their ranged GETs, passes with the headers and without a body.
/// </summary>
[Collection(GatewayPlatformCollection.Name)]
public sealed class StreamingTests(GatewayPlatform platform, ITestOutputHelper output)
{
    private const long GiB = 1024L * 1024 * 1024;
    private const long MiB = 1024L * 1024;

    [Fact]
    public async Task A_1_GiB_upload_and_download_pass_the_gateway_with_its_resident_set_up_by_less_than_64_MiB()
    {
        var user = await platform.SignUpAsync();
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        // Warm every path first (JIT, pools, connections), so the baseline is the gateway at rest, not at birth.
        using (var warmUp = new GeneratedContentStream(8 * MiB, seed: 7))
        {
            var warm = await UploadAsync(client, user, warmUp);
            await DownloadAsync(client, user, warm);
        }
        var gateway = platform.ProcessId("gateway");
        var baseline = ResidentSet.BytesOf(gateway);

        using var sampler = new ResidentSet(gateway);
        using var sent = new GeneratedContentStream(GiB, seed: 4321);
        var clock = Stopwatch.StartNew();
        var id = await UploadAsync(client, user, sent);
        var uploadTime = clock.Elapsed;
        clock.Restart();
        var (sha256, length) = await DownloadAsync(client, user, id);
        var downloadTime = clock.Elapsed;
        var peak = sampler.Peak;

        output.WriteLine($"gateway VmRSS baseline {baseline / MiB} MiB, peak {peak / MiB} MiB (+{(peak - baseline) / MiB} MiB); " +
                         $"1 GiB up {uploadTime.TotalSeconds:0.0} s ({GiB / MiB / uploadTime.TotalSeconds:0} MiB/s), down {downloadTime.TotalSeconds:0.0} s ({GiB / MiB / downloadTime.TotalSeconds:0} MiB/s)");
        Assert.Equal((GiB, sent.Sha256Hex), (length, sha256));
        Assert.True(peak - baseline < 64 * MiB, $"the gateway's VmRSS rose by {(peak - baseline) / MiB} MiB");
    }

    [Fact]
    public async Task A_head_of_a_files_content_passes_the_gateway_with_the_headers_of_its_ranged_get_and_no_body()
    {
        var user = await platform.SignUpAsync();
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(1) };
        using var content = new GeneratedContentStream(MiB, seed: 5);
        var id = await UploadAsync(client, user, content);

        using var request = platform.Request(HttpMethod.Head, $"/api/files/{id}/content", user.ClientAddress, user.AccessToken);
        request.Headers.Range = new RangeHeaderValue(100, 199);
        using var answer = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, answer.StatusCode);
        Assert.Equal(100, answer.Content.Headers.ContentLength);
        Assert.Equal($"bytes 100-199/{MiB}", answer.Content.Headers.ContentRange?.ToString());
        Assert.Equal("bytes", Assert.Single(answer.Headers.AcceptRanges));
        Assert.Equal($"\"{content.Sha256Hex}\"", answer.Headers.ETag?.Tag);
        Assert.NotNull(answer.Content.Headers.LastModified);
        Assert.Empty(await answer.Content.ReadAsByteArrayAsync());
    }

    private async Task<string> UploadAsync(HttpClient client, SignedInUser user, GeneratedContentStream content)
    {
        using var request = platform.Request(HttpMethod.Post, "/api/files?name=big.bin", user.ClientAddress, user.AccessToken);
        request.Content = new StreamContent(content, 64 * 1024);
        request.Content.Headers.ContentLength = content.Length;
        request.Content.Headers.ContentType = new("application/octet-stream");
        using var answer = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
        return (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private async Task<(string Sha256, long Length)> DownloadAsync(HttpClient client, SignedInUser user, string id)
    {
        using var request = platform.Request(HttpMethod.Get, $"/api/files/{id}/content", user.ClientAddress, user.AccessToken);
        using var answer = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return await Hashes.OfStreamAsync(await answer.Content.ReadAsStreamAsync());
    }
}
