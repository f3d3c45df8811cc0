using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Platform.Files.Storage;
using Xunit.Abstractions;
using Platform.Testing;

namespace Platform.Files.Tests;

[Collection(FilesTierCollection.Name)]
public sealed class RoundTripTests(FilesTierFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;
    private FilesPlatform platform = null!;
    private FilesClient user = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_roundtrip");
        user = await platform.NewUserAsync();
    }

    public async Task DisposeAsync()
    {
        user.Dispose();
        await platform.DisposeAsync();
    }

    public static TheoryData<long, bool> Sizes()
    {
        var data = new TheoryData<long, bool>();
        foreach (var size in new long[] { 0, 1, FileUploader.ChunkSize - 1, FileUploader.ChunkSize, FileUploader.ChunkSize + 1, MiB - 1, MiB, MiB + 1, 50 * MiB })
        {
            data.Add(size, false);
            data.Add(size, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task A_file_comes_back_byte_for_byte(long size, bool multipart)
    {
        using var sent = new GeneratedContentStream(size, seed: (ulong)size + 7);
        var clock = Stopwatch.StartNew();

        using var uploaded = multipart
            ? await user.UploadMultipartAsync(new StreamContent(sent), "generated.bin")
            : await user.UploadRawAsync(new StreamContent(sent), "generated.bin");
        var uploadTime = clock.Elapsed;

        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var file = (await uploaded.Content.ReadFromJsonAsync<UploadedFile>())!;
        Assert.Equal((size, sent.Sha256Hex), (file.Size, file.Sha256));

        clock.Restart();
        using var download = await user.SendAsync(HttpMethod.Get, $"/api/files/{file.Id}/content", null, completion: HttpCompletionOption.ResponseHeadersRead);
        var (received, length) = await Hashes.OfStreamAsync(await download.Content.ReadAsStreamAsync());
        var downloadTime = clock.Elapsed;

        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal((size, sent.Sha256Hex), (length, received));
        if (size >= 10 * MiB)
        {
            output.WriteLine($"{size / MiB} MiB {(multipart ? "multipart" : "raw")}: upload {uploadTime.TotalMilliseconds:0} ms, download {downloadTime.TotalMilliseconds:0} ms");
        }
    }
}
