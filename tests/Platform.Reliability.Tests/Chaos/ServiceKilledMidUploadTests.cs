using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// The files service SIGKILLed while an upload streams into it: PostgreSQL rolls the upload's transaction back when
/// the connection dies, so no listing shows the file and no byte of it can be downloaded; after the restart the same
/// upload simply works. Cheap enough for <c>make test</c>.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class ServiceKilledMidUploadTests(ReliabilityPlatform platform)
{
    private const long Size = 64L * 1024 * 1024;
    private const long KillAfter = 4L * 1024 * 1024; // some 500 chunks already COPYed into file_chunks

    [Fact]
    public async Task The_files_service_killed_mid_upload_leaves_nothing_half_written_and_the_upload_can_be_retried()
    {
        var user = await platform.SignUpAsync("upload-kill");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        await using var content = new PacedContentStream(Size, 64 * 1024, TimeSpan.FromMilliseconds(10));
        var upload = UploadAsync(client, user, content);
        await Poll.UntilAsync(() => Task.FromResult(content.Sent >= KillAfter), TimeSpan.FromSeconds(30), "4 MiB of the upload to be sent");
        var streamingChunks = await UncommittedCopyAsync();

        var sentBeforeKill = content.Sent;
        await Sigkill.ProcessAsync(platform.ProcessId("files"));
        var cut = await upload;
        // The server notices the dead client at its next read of the COPY stream and rolls back; wait for that, not a guess.
        await Poll.UntilAsync(async () => await UncommittedCopyAsync() == 0, TimeSpan.FromSeconds(30), "the upload's transaction to end");
        var restarted = Stopwatch.StartNew();
        (await platform.PlatformAsync("up")).EnsureSuccess("platform.sh up");
        // Through the gateway, whose breaker opened on the dead service, until the listing answers again.
        var listed = await Poll.UntilAsync(() => ListAsync(user), _ => true, TimeSpan.FromSeconds(30), "the files listing through the gateway");
        var recovery = restarted.Elapsed;

        var rows = await platform.Databases.CountAsync("files", "SELECT count(*) FROM files WHERE owner = $1", user.Id);
        var orphanChunks = await platform.Databases.CountAsync("files", "SELECT count(*) FROM file_chunks c WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = c.file_id)");

        await using var again = new GeneratedContentStream(8L * 1024 * 1024);
        using var retry = await UploadAsync(client, user, again);
        var stored = retry is { StatusCode: HttpStatusCode.Created } ? await retry.Content.ReadFromJsonAsync<JsonElement>() : default;
        var downloaded = stored.ValueKind == JsonValueKind.Object ? await DownloadHashAsync(user, stored.GetProperty("id").GetGuid()) : null;
        var listedAfter = await ListAsync(user);
        var held = cut is null or { StatusCode: >= HttpStatusCode.BadRequest } && rows == 0 && orphanChunks == 0 && listed == 0
            && retry?.StatusCode == HttpStatusCode.Created && downloaded == again.Sha256Hex && listedAfter == 1;

        KillDrillReport.Write("files-service-killed-mid-upload", "files service SIGKILLed mid-upload",
            "nothing half-written visible (no listing entry, no downloadable part); the upload can be retried", "1 (the retry)", downloaded == again.Sha256Hex ? 0 : 1, "n/a", recovery,
            $"sent before the kill: {sentBeforeKill / 1024 / 1024} MiB of 64 MiB (COPY in progress: {streamingChunks > 0}); " +
            $"the cut upload's answer: {(cut is null ? "connection lost" : (int)cut.StatusCode)}; files rows of the user: {rows}; " +
            $"orphan chunks: {orphanChunks}; listed: {listed}; retry (8 MiB): {(int?)retry?.StatusCode}, download hash matches: {downloaded == again.Sha256Hex}, listed: {listedAfter}",
            held, "*Recovery* runs from `scripts/platform.sh up` starting the killed service to its listing answering through the gateway.");
        cut?.Dispose();
        Assert.True(cut is null || cut.StatusCode >= HttpStatusCode.BadRequest, $"the cut upload was answered {cut?.StatusCode}");
        Assert.Equal(0, rows);
        Assert.Equal(0, orphanChunks);
        Assert.Equal(0, listed);
        Assert.Equal(HttpStatusCode.Created, retry?.StatusCode);
        Assert.Equal(again.Sha256Hex, downloaded);
        Assert.Equal(1, listedAfter);
    }

    /// <summary>The answer, or null when the connection was lost before one came (the gateway may also answer 502).</summary>
    private async Task<HttpResponseMessage?> UploadAsync(HttpClient client, PlatformUser user, Stream body)
    {
        using var request = platform.Request(HttpMethod.Post, "/api/files?name=drill.bin", user.ClientAddress, user.AccessToken);
        request.Content = new StreamContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        try
        {
            return await client.SendAsync(request);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Backends of the files database still inside the upload's COPY.</summary>
    private Task<long> UncommittedCopyAsync() => platform.Databases.CountAsync("files",
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'files' AND query ILIKE 'COPY file_chunks%' AND state <> 'idle'");

    private async Task<int> ListAsync(PlatformUser user)
    {
        using var request = platform.Request(HttpMethod.Get, "/api/files", user.ClientAddress, user.AccessToken);
        using var answer = await platform.Client.SendAsync(request);
        answer.EnsureSuccessStatusCode();
        return (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").GetArrayLength();
    }

    private async Task<string> DownloadHashAsync(PlatformUser user, Guid id)
    {
        using var request = platform.Request(HttpMethod.Get, $"/api/files/{id}/content", user.ClientAddress, user.AccessToken);
        using var answer = await platform.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        answer.EnsureSuccessStatusCode();
        await using var body = await answer.Content.ReadAsStreamAsync();
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(body));
    }
}
