using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Files.Storage;
using Platform.Hosting.Problems;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>
/// Files:ContentDirectory: uploads' bytes in one file each under a directory, PostgreSQL holding metadata only.
/// Deleted and abandoned content leaves through the <c>content_removals</c> queue. The delay is an hour here, so the
/// service's own removals never act while a test looks; a test moves its rows' time back and runs a batch itself.
/// </summary>
[Collection(FilesTierCollection.Name)]
public sealed class ContentDirectoryTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private const int MaxFileBytes = 1024 * 1024;
    private const int RemovalDelaySeconds = 3600;
    private readonly string root = Path.Combine(Path.GetTempPath(), $"platform-files-content-{Guid.NewGuid():N}");
    private FilesPlatform platform = null!;
    private FilesClient user = null!;

    private ContentDirectory Directory => platform.Files.Services.GetRequiredService<ContentDirectory>();

    private ContentRemovals Removals => platform.Files.Services.GetRequiredService<ContentRemovals>();

    public async Task InitializeAsync()
    {
        // A pool of two: an upload into the directory holds no connection while it streams, so slots are not bounded by it.
        const string pool = ";Minimum Pool Size=0;Maximum Pool Size=2";
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_content_directory", new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = fixture.Tier.PostgresPrimary + pool,
            ["ConnectionStrings:PostgresReplica"] = fixture.Tier.PostgresReplica + pool,
            ["Files:ContentDirectory"] = root,
            ["Files:ContentRemovalDelaySeconds"] = RemovalDelaySeconds.ToString(),
            ["Files:MaxFileBytes"] = MaxFileBytes.ToString(),
            ["Files:QuotaBytesPerUser"] = (3 * MaxFileBytes / 2).ToString(),
        });
        user = await platform.NewUserAsync();
        // The database outlives each test's service and directory: what earlier tests left queued is not this test's.
        await ExecuteAsync("DELETE FROM content_removals");
    }

    public async Task DisposeAsync()
    {
        user.Dispose();
        await platform.DisposeAsync();
        System.IO.Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task An_upload_is_one_file_in_the_directory_no_chunks_and_reads_back_whole_and_by_range()
    {
        var content = GeneratedContentStream.Bytes(700_001, seed: 7);
        var file = await user.UploadOkAsync(content, "big.bin", "application/octet-stream");

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), file.Sha256);
        Assert.Equal(content, await File.ReadAllBytesAsync(Directory.PathOf(file.Id)));
        Assert.Equal((1, 0), await platform.StoredRowsAsync(user.UserId));
        Assert.Equal("directory", await ScalarAsync<string>("SELECT content_store FROM files WHERE id = $1", file.Id));
        Assert.Equal(0, await QueuedAsync());

        using (var whole = await user.GetAsync($"/api/files/{file.Id}/content"))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal($"\"{file.Sha256}\"", whole.Headers.ETag?.Tag);
            Assert.Equal(content, await whole.Content.ReadAsByteArrayAsync());
        }
        using (var range = await user.GetAsync($"/api/files/{file.Id}/content", headers => headers.Range = new RangeHeaderValue(500_000, 600_123)))
        {
            Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
            Assert.Equal(content[500_000..600_124], await range.Content.ReadAsByteArrayAsync());
        }
        using (var tail = await user.GetAsync($"/api/files/{file.Id}/content", headers => headers.Range = new RangeHeaderValue(null, 10)))
        {
            Assert.Equal(HttpStatusCode.PartialContent, tail.StatusCode);
            Assert.Equal(content[^10..], await tail.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task An_upload_too_large_or_over_quota_leaves_no_file_and_no_lease()
    {
        // Sent without a length, so both are cut off while they stream rather than refused from their headers.
        using (var tooLarge = await user.UploadRawAsync(new StreamContent(new GeneratedContentStream(MaxFileBytes + 1, seed: 1)), "too-large.bin"))
        {
            await FilesClient.ProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge, "https://platform.dev/problems/payload-too-large");
        }
        Assert.Equal(0, FilesOnDisk());
        await user.UploadOkAsync(new byte[MaxFileBytes], "first.bin");
        using (var overQuota = await user.UploadRawAsync(new StreamContent(new GeneratedContentStream(MaxFileBytes, seed: 2)), "over-quota.bin"))
        {
            await FilesClient.ProblemAsync(overQuota, HttpStatusCode.RequestEntityTooLarge, "https://platform.dev/problems/quota-exceeded");
        }

        Assert.Equal(1, FilesOnDisk());
        Assert.Equal(0, await QueuedAsync());
        Assert.Single(await user.ListAllAsync());
    }

    [Fact]
    public async Task An_upload_the_client_abandons_midway_leaves_no_file_and_no_lease()
    {
        var content = new StalledContent(300_000);
        var upload = user.UploadRawAsync(content, "abandoned.bin");
        await content.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await WaitUntilAsync(() => FilesOnDisk() == 1, "the upload's file was not created");
        content.Abandon();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => upload);

        await WaitUntilAsync(() => FilesOnDisk() == 0, "the abandoned upload's file is still there");
        // The discard unlinks the file first and drops the lease after (a crash between leaves a lease, never an orphan).
        await Poll.UntilAsync(QueuedAsync, queued => queued == 0, TimeSpan.FromSeconds(10), "the abandoned upload's lease to be dropped");
        Assert.Empty(await user.ListAllAsync());
    }

    [Fact]
    public async Task Slow_uploads_hold_no_connection_so_more_of_them_than_the_pool_has_connections_run_beside_downloads()
    {
        var stored = await user.UploadOkAsync("already here"u8.ToArray());
        var stalled = Enumerable.Range(0, 3).Select(_ => new StalledContent(64 * 1024)).ToList();
        var uploads = stalled.Select((content, i) => user.UploadRawAsync(content, $"slow-{i}.bin")).ToList();
        await Task.WhenAll(stalled.Select(content => content.Stalled.Task)).WaitAsync(TimeSpan.FromSeconds(30));
        // Into PostgreSQL, a pool of two would have let one of them run (UploadSlotsTests); here all three stream.
        await WaitUntilAsync(() => FilesOnDisk() == 4, "not every slow upload is streaming into its file");

        using (var download = await user.GetAsync($"/api/files/{stored.Id}/content").WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal("already here", await download.Content.ReadAsStringAsync());
        }
        stalled.ForEach(content => content.Release());
        foreach (var upload in uploads)
        {
            using var done = await upload.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.Created, done.StatusCode);
        }
        Assert.Equal(4, (await user.ListAllAsync()).Count);
    }

    /// <summary>HEAD answers from the file's row: with its content file gone, GET fails, and HEAD still describes the file.</summary>
    [Fact]
    public async Task Head_opens_no_content_file()
    {
        var file = await user.UploadOkAsync(GeneratedContentStream.Bytes(5000, seed: 3), "described.bin", "application/octet-stream");
        File.Delete(Directory.PathOf(file.Id));

        using var head = await user.SendAsync(HttpMethod.Head, $"/api/files/{file.Id}/content", null, headers => headers.Range = new RangeHeaderValue(1000, 1999));
        using var get = await user.GetAsync($"/api/files/{file.Id}/content", headers => headers.Range = new RangeHeaderValue(1000, 1999));

        Assert.Equal(HttpStatusCode.PartialContent, head.StatusCode);
        Assert.Equal(1000, head.Content.Headers.ContentLength);
        Assert.Equal("bytes 1000-1999/5000", head.Content.Headers.ContentRange?.ToString());
        Assert.Equal(HttpStatusCode.InternalServerError, get.StatusCode);
    }

    [Fact]
    public async Task A_deleted_file_is_gone_at_once_for_clients_and_its_content_at_the_next_removal()
    {
        var kept = await user.UploadOkAsync("kept"u8.ToArray(), "kept.txt");
        var deleted = await user.UploadOkAsync("deleted"u8.ToArray(), "deleted.txt");

        using (var delete = await user.DeleteAsync($"/api/files/{deleted.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        using (var gone = await user.GetAsync($"/api/files/{deleted.Id}/content"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        Assert.Equal(0, await Removals.RemoveDueAsync(CancellationToken.None));
        Assert.True(File.Exists(Directory.PathOf(deleted.Id)), "content removed before its delay: a download begun before the delete may still be reading it");
        Assert.Equal(1, await QueuedAsync());

        await DelayPassedAsync();
        Assert.Equal(1, await Removals.RemoveDueAsync(CancellationToken.None));

        Assert.False(File.Exists(Directory.PathOf(deleted.Id)));
        Assert.True(File.Exists(Directory.PathOf(kept.Id)));
        Assert.Equal(0, await QueuedAsync());
        using var still = await user.GetAsync($"/api/files/{kept.Id}/content");
        Assert.Equal("kept", await still.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_purge_of_a_deleted_account_queues_the_content_of_every_file_it_deletes()
    {
        var files = new[] { await user.UploadOkAsync("one"u8.ToArray(), "1.txt"), await user.UploadOkAsync("two"u8.ToArray(), "2.txt") };

        // The statement UserDeletedHandler runs (EventsTests drives it through RabbitMQ): the trigger, not the handler, queues the content.
        await using (var connection = await OpenAsync())
        await using (var purge = new NpgsqlCommand("DELETE FROM files WHERE owner = $1", connection) { Parameters = { new() { Value = user.UserId } } })
        {
            Assert.Equal(2, await purge.ExecuteNonQueryAsync());
        }
        Assert.Equal(2, await QueuedAsync());
        await DelayPassedAsync();
        await Removals.RemoveDueAsync(CancellationToken.None);

        Assert.All(files, file => Assert.False(File.Exists(Directory.PathOf(file.Id))));
        Assert.Equal(0, await QueuedAsync());
    }

    [Fact]
    public async Task An_abandoned_uploads_file_is_removed_once_its_lease_is_due_and_one_still_written_to_is_kept()
    {
        var abandoned = Guid.CreateVersion7();
        var live = Guid.CreateVersion7();
        var neverWritten = Guid.CreateVersion7();  // the process died between its lease and its file
        await ExecuteAsync("INSERT INTO content_removals (file_id, kind, due_at) VALUES ($1, 'upload', now())", neverWritten);
        foreach (var id in new[] { abandoned, live })
        {
            await using (var file = Directory.Create(id))
            {
                file.Write("partial"u8);
            }
            await ExecuteAsync("INSERT INTO content_removals (file_id, kind, due_at) VALUES ($1, 'upload', now())", id);
        }
        await DelayPassedAsync();
        File.SetLastWriteTimeUtc(Directory.PathOf(abandoned), DateTime.UtcNow - ContentRemovals.UploadLease - TimeSpan.FromMinutes(1));

        Assert.Equal(3, await Removals.RemoveDueAsync(CancellationToken.None));

        Assert.False(File.Exists(Directory.PathOf(abandoned)));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM content_removals WHERE file_id = ANY($1)", new[] { abandoned, neverWritten }));
        Assert.True(File.Exists(Directory.PathOf(live)));
        var renewedUntil = await ScalarAsync<DateTime>("SELECT due_at FROM content_removals WHERE file_id = $1", live);
        Assert.InRange(renewedUntil - DateTime.UtcNow, ContentRemovals.UploadLease - TimeSpan.FromMinutes(5), ContentRemovals.UploadLease);
        Assert.Equal(0, await Removals.RemoveDueAsync(CancellationToken.None));
        var metrics = await MetricsAsync();
        Assert.Matches(@"(?m)^files_content_removals_total\{[^}]*result=""removed""[^}]*\} 2$", metrics);
        Assert.Matches(@"(?m)^files_content_removals_total\{[^}]*result=""still_writing""[^}]*\} 1$", metrics);
        Assert.Matches(@"(?m)^files_content_removals_total\{[^}]*result=""failed""[^}]*\} 0$", metrics);
    }

    [Fact]
    public async Task A_file_the_filesystem_will_not_remove_is_tried_again_in_an_hour_counted_and_does_not_hold_up_the_rest()
    {
        var stuck = Guid.CreateVersion7();
        var gone = Guid.CreateVersion7();
        foreach (var id in new[] { stuck, gone })
        {
            await using (var file = Directory.Create(id))
            {
                file.Write("abandoned"u8);
            }
            await ExecuteAsync("INSERT INTO content_removals (file_id, kind, due_at) VALUES ($1, 'deleted', now())", id);
        }
        // unlink(2) refuses a directory whatever the caller's rights (tests may run as root, whom modes do not stop).
        File.Delete(Directory.PathOf(stuck));
        System.IO.Directory.CreateDirectory(Path.Combine(Directory.PathOf(stuck), "in-the-way"));
        await DelayPassedAsync();

        Assert.Equal(2, await Removals.RemoveDueAsync(CancellationToken.None));

        Assert.False(File.Exists(Directory.PathOf(gone)));
        var retryAt = await ScalarAsync<DateTime>("SELECT due_at FROM content_removals WHERE file_id = $1", stuck);
        Assert.InRange(retryAt - DateTime.UtcNow, ContentRemovals.UploadLease - TimeSpan.FromMinutes(5), ContentRemovals.UploadLease);
        Assert.Equal(1, await QueuedAsync());
        var metrics = await MetricsAsync();
        Assert.Matches(@"(?m)^files_content_removals_total\{[^}]*result=""removed""[^}]*\} 1$", metrics);
        Assert.Matches(@"(?m)^files_content_removals_total\{[^}]*result=""failed""[^}]*\} 1$", metrics);
        Assert.Matches(@"(?m)^files_content_removals_total\{[^}]*result=""still_writing""[^}]*\} 0$", metrics);
        Assert.Matches(@"(?m)^files_content_removal_failures_total(\{[^}]*\})? 0$", metrics);
    }

    [Fact]
    public async Task A_file_whose_content_is_missing_is_a_server_error_not_a_404()
    {
        var file = await user.UploadOkAsync("here"u8.ToArray(), "here.txt");
        // What a pod sees that does not mount the volume the others wrote to: the row, and no bytes.
        File.Delete(Directory.PathOf(file.Id));

        using var response = await user.GetAsync($"/api/files/{file.Id}/content");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    [Fact]
    public async Task Files_stored_in_postgresql_before_the_directory_was_set_still_read_back()
    {
        var file = await user.UploadOkAsync("moved"u8.ToArray(), "old.txt");
        // What a file stored before the setting looks like: its bytes as one chunk row, content_store 'postgres'.
        await ExecuteAsync("UPDATE files SET content_store = 'postgres', chunk_size = 8000 WHERE id = $1", file.Id);
        await ExecuteAsync("INSERT INTO file_chunks (file_id, index, data) VALUES ($1, 0, 'older'::bytea)", file.Id);

        using var response = await user.GetAsync($"/api/files/{file.Id}/content");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("older", await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// A full volume is the store's outage, not the client's mistake: both upload forms get 503 with Retry-After (a
    /// multipart body was answered 400 "malformed" before, the store's IOException taken for the reader's), nothing of
    /// the upload stays, and once there is room again the same upload is stored. The objects directory is a 1 MiB
    /// tmpfs of its own here (root mounts it), filled to its last block with a ballast file.
    /// </summary>
    [Fact]
    public async Task A_full_content_volume_answers_503_for_either_upload_form_and_keeps_nothing_of_it()
    {
        var objects = Path.Combine(root, "objects");
        System.IO.Directory.CreateDirectory(objects);
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=1m", "platform-files-full", objects);
        try
        {
            var ballast = Path.Combine(objects, "ballast");
            await using (var fill = File.OpenWrite(ballast))
            {
                var block = new byte[4096];
                try
                {
                    while (true)
                    {
                        fill.Write(block);
                        fill.Flush();
                    }
                }
                catch (IOException)
                {
                    // ENOSPC: full.
                }
            }
            var content = GeneratedContentStream.Bytes(300_000, seed: 11);

            using (var raw = await user.UploadRawAsync(content, "raw.bin"))
            {
                await FilesClient.ProblemAsync(raw, HttpStatusCode.ServiceUnavailable, ProblemTypes.ServiceUnavailable);
                Assert.True(raw.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
            }
            using (var form = await user.UploadMultipartAsync(new ByteArrayContent(content), "form.bin"))
            {
                await FilesClient.ProblemAsync(form, HttpStatusCode.ServiceUnavailable, ProblemTypes.ServiceUnavailable);
            }
            Assert.Empty((await user.ListOkAsync()).Items);
            Assert.Equal(0L, await QueuedAsync());
            Assert.Equal([ballast], System.IO.Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories));

            File.Delete(ballast);
            var stored = await user.UploadOkAsync(content, "raw.bin", "application/octet-stream");
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), stored.Sha256);
        }
        finally
        {
            // Lazily, and without asserting: a failed unmount must not hide the test's own failure.
            using var unmount = System.Diagnostics.Process.Start("umount", ["-l", objects]);
            await unmount.WaitForExitAsync();
        }
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {errors} (needs root, as the tests do)");
    }

    /// <summary>Every queued removal as if it and the delay after it were past.</summary>
    private Task DelayPassedAsync() =>
        ExecuteAsync("UPDATE content_removals SET due_at = due_at - make_interval(secs => $1 + 60)", (double)RemovalDelaySeconds);

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(50);
        }
    }

    private async Task<string> MetricsAsync()
    {
        using var http = new HttpClient { BaseAddress = platform.Files.Address };
        return await http.GetStringAsync("/metrics");
    }

    private int FilesOnDisk() => System.IO.Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Count();

    private Task<long> QueuedAsync() => ScalarAsync<long>("SELECT count(*) FROM content_removals");

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(platform.Files.DatabaseConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private async Task ExecuteAsync(string sql, params object[] values)
    {
        await using var connection = await OpenAsync();
        await using var command = Command(sql, connection, values);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql, params object[] values)
    {
        await using var connection = await OpenAsync();
        await using var command = Command(sql, connection, values);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static NpgsqlCommand Command(string sql, NpgsqlConnection connection, object[] values)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new() { Value = value });
        }
        return command;
    }
}
