using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Files.Data;
using Platform.Files.Storage;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>
/// Single byte ranges per RFC 9110 §14, over a file of many chunks and several read segments, so ranges cross the
/// boundaries of both (<see cref="FileUploader.ChunkSize"/>, <see cref="StoredContentStream.FirstSegmentSize"/>,
/// <see cref="StoredContentStream.SegmentSize"/>).
/// </summary>
[Collection(FilesTierCollection.Name)]
public sealed class RangeTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private const int Size = 3 * StoredContentStream.SegmentSize + 1000;
    private const int EarlierChunkSize = 512 * 1024;
    private static readonly byte[] Content = GeneratedContentStream.Bytes(Size, seed: 42);
    private FilesPlatform platform = null!;
    private FilesClient user = null!;
    private UploadedFile file = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_range");
        user = await platform.NewUserAsync();
        file = await user.UploadOkAsync(Content, "three-chunks.bin", "application/octet-stream");
    }

    public async Task DisposeAsync()
    {
        user.Dispose();
        await platform.DisposeAsync();
    }

    public static TheoryData<string, long, long> SatisfiableRanges() => new()
    {
        { "bytes=0-0", 0, 0 },
        { "bytes=0-99", 0, 99 },
        { $"bytes={Size - 1}-{Size - 1}", Size - 1, Size - 1 },
        { "bytes=-1", Size - 1, Size - 1 },
        { "bytes=-1500", Size - 1500, Size - 1 },
        { "bytes=1000000-", 1000000, Size - 1 },
        { $"bytes={FileUploader.ChunkSize - 100}-{FileUploader.ChunkSize + 100}", FileUploader.ChunkSize - 100, FileUploader.ChunkSize + 100 },
        { $"bytes=0-{StoredContentStream.FirstSegmentSize + 10}", 0, StoredContentStream.FirstSegmentSize + 10 },
        { $"bytes={FileUploader.ChunkSize + 7}-{2 * StoredContentStream.SegmentSize}", FileUploader.ChunkSize + 7, 2 * StoredContentStream.SegmentSize },
        { $"bytes={EarlierChunkSize - 1}-{EarlierChunkSize}", EarlierChunkSize - 1, EarlierChunkSize },
        { "bytes=100-99999999", 100, Size - 1 },
        { "bytes=-99999999", 0, Size - 1 },
    };

    [Theory]
    [MemberData(nameof(SatisfiableRanges))]
    public async Task A_satisfiable_range_answers_206_with_exactly_those_bytes(string range, long first, long last)
    {
        using var response = await GetWithRangeAsync(range);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes {first}-{last}/{Size}", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(Content.AsSpan((int)first, (int)(last - first + 1)).ToArray(), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{file.Sha256}\"", response.Headers.ETag?.Tag);
    }

    public static TheoryData<string> UnsatisfiableRanges() => [$"bytes={Size}-", $"bytes={Size + 1000}-{Size + 2000}", "bytes=-0"];

    [Theory]
    [MemberData(nameof(UnsatisfiableRanges))]
    public async Task A_range_beyond_the_end_is_416_problem_details_with_the_size(string range)
    {
        using var response = await GetWithRangeAsync(range);

        await AssertUnsatisfiableAsync(response, Size);
    }

    /// <summary>
    /// Conditions that let the range be evaluated: an If-Range naming the file as it is (by ETag or by its
    /// Last-Modified date), an If-None-Match naming another file, an If-Match naming this one. The file result answered
    /// these with its own 416 — empty, in the file's media type, as an attachment.
    /// </summary>
    [Theory]
    [InlineData("If-Range", "etag")]
    [InlineData("If-Range", "date")]
    [InlineData("If-None-Match", "other")]
    [InlineData("If-Match", "etag")]
    public async Task A_range_beyond_the_end_whose_condition_holds_is_416_problem_details_with_the_size(string header, string value)
    {
        using var response = await user.GetAsync($"/api/files/{file.Id}/content", h =>
        {
            h.TryAddWithoutValidation("Range", $"bytes={Size}-");
            h.TryAddWithoutValidation(header, Validator(value));
        });

        await AssertUnsatisfiableAsync(response, Size);
    }

    [Fact]
    public async Task If_range_with_an_old_etag_and_a_range_beyond_the_end_gets_the_whole_file()
    {
        using var response = await user.GetAsync($"/api/files/{file.Id}/content", h =>
        {
            h.TryAddWithoutValidation("Range", $"bytes={Size}-");
            h.TryAddWithoutValidation("If-Range", Validator("other"));
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Size, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    /// <summary>RFC 9110 §13.2.2: preconditions are evaluated before the range, so a failed one is the answer.</summary>
    [Theory]
    [InlineData("If-Match", "other", HttpStatusCode.PreconditionFailed)]
    [InlineData("If-Unmodified-Since", "before", HttpStatusCode.PreconditionFailed)]
    [InlineData("If-None-Match", "etag", HttpStatusCode.NotModified)]
    [InlineData("If-Modified-Since", "date", HttpStatusCode.NotModified)]
    public async Task A_failed_precondition_wins_over_a_range_beyond_the_end(string header, string value, HttpStatusCode status)
    {
        using var response = await user.GetAsync($"/api/files/{file.Id}/content", h =>
        {
            h.TryAddWithoutValidation("Range", $"bytes={Size}-");
            h.TryAddWithoutValidation(header, Validator(value));
        });

        if (status == HttpStatusCode.PreconditionFailed)
        {
            var problem = await FilesClient.ProblemAsync(response, status, "https://platform.dev/problems/precondition-failed");
            Assert.Contains(file.Sha256, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(status, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentRange);
    }

    [Theory]
    [InlineData("bytes=abc")]
    [InlineData("bytes=5-2")]
    [InlineData("items=0-10")]
    [InlineData("bytes 0-10")]
    [InlineData("bytes=0-1,5-6")]
    public async Task A_malformed_or_multiple_range_is_ignored_and_the_whole_file_is_200(string range)
    {
        using var response = await GetWithRangeAsync(range);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Content, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task If_range_with_an_old_etag_gets_the_whole_file_and_with_the_current_one_the_range()
    {
        using var stale = await user.GetAsync($"/api/files/{file.Id}/content", h =>
        {
            h.TryAddWithoutValidation("Range", "bytes=0-9");
            h.TryAddWithoutValidation("If-Range", "\"0000\"");
        });
        using var current = await user.GetAsync($"/api/files/{file.Id}/content", h =>
        {
            h.TryAddWithoutValidation("Range", "bytes=0-9");
            h.TryAddWithoutValidation("If-Range", $"\"{file.Sha256}\"");
        });

        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal(Size, (await stale.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal(HttpStatusCode.PartialContent, current.StatusCode);
        Assert.Equal(Content[..10], await current.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task An_empty_file_has_no_satisfiable_first_byte_range_and_answers_416()
    {
        var empty = await user.UploadOkAsync([], "empty.bin");

        using var plain = await user.GetAsync($"/api/files/{empty.Id}/content", h => h.TryAddWithoutValidation("Range", "bytes=0-"));
        using var conditional = await user.GetAsync($"/api/files/{empty.Id}/content", h =>
        {
            h.TryAddWithoutValidation("Range", "bytes=0-");
            h.TryAddWithoutValidation("If-Range", $"\"{empty.Sha256}\"");
        });

        await AssertUnsatisfiableAsync(plain, 0);
        await AssertUnsatisfiableAsync(conditional, 0);
    }

    private static async Task AssertUnsatisfiableAsync(HttpResponseMessage response, long size)
    {
        var problem = await FilesClient.ProblemAsync(response, HttpStatusCode.RequestedRangeNotSatisfiable, "https://platform.dev/problems/range-not-satisfiable");
        Assert.Equal($"bytes */{size}", response.Content.Headers.ContentRange?.ToString());
        Assert.Contains($"{size} bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Null(response.Content.Headers.ContentDisposition);
    }

    /// <summary>A validator of <see cref="file"/>: its ETag, another one, its Last-Modified date, or a day before it.</summary>
    private string Validator(string kind) => kind switch
    {
        "etag" => $"\"{file.Sha256}\"",
        "other" => "\"0000\"",
        "date" => file.CreatedAt.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        "before" => file.CreatedAt.AddDays(-1).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Fact]
    public async Task New_chunks_are_stored_in_their_heap_pages_not_in_toast()
    {
        var before = await ChunkTableSizesAsync();

        await user.UploadOkAsync(Content, "again.bin", "application/octet-stream");

        var after = await ChunkTableSizesAsync();
        Assert.True(after.Heap - before.Heap >= Size, $"file_chunks grew by {after.Heap - before.Heap} bytes for a {Size}-byte file");
        Assert.Equal(before.Toast, after.Toast);
    }

    private async Task<(long Heap, long Toast)> ChunkTableSizesAsync()
    {
        await using var connection = new NpgsqlConnection(platform.Files.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pg_relation_size(oid), pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'file_chunks'::regclass", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    [Fact]
    public async Task A_file_stored_in_the_512_KiB_chunks_of_earlier_versions_reads_the_same_whole_and_by_range()
    {
        await RechunkAsync(file.Id, EarlierChunkSize);

        using var whole = await user.GetAsync($"/api/files/{file.Id}/content");
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(Content, await whole.Content.ReadAsByteArrayAsync());
        foreach (var (range, first, last) in SatisfiableRanges().Select(row => ((string)row[0], (long)row[1], (long)row[2])))
        {
            using var response = await GetWithRangeAsync(range);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal(Content.AsSpan((int)first, (int)(last - first + 1)).ToArray(), await response.Content.ReadAsByteArrayAsync());
        }
    }

    /// <summary>Stores <paramref name="id"/>'s content again in chunks of <paramref name="chunkSize"/>, as an earlier uploader would have.</summary>
    private async Task RechunkAsync(Guid id, int chunkSize)
    {
        await using var connection = new NpgsqlConnection(platform.Files.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var delete = new NpgsqlCommand("DELETE FROM file_chunks WHERE file_id = $1", connection, transaction) { Parameters = { new() { Value = id } } })
        {
            Assert.True(await delete.ExecuteNonQueryAsync() > Size / FileUploader.ChunkSize);
        }
        for (var index = 0; index * chunkSize < Content.Length; index++)
        {
            var piece = Content.AsMemory(index * chunkSize, Math.Min(chunkSize, Content.Length - index * chunkSize)).ToArray();
            await using var insert = new NpgsqlCommand("INSERT INTO file_chunks (file_id, index, data) VALUES ($1, $2, $3)", connection, transaction)
            {
                Parameters = { new() { Value = id }, new() { Value = index }, new() { Value = piece } },
            };
            await insert.ExecuteNonQueryAsync();
        }
        await using (var update = new NpgsqlCommand("UPDATE files SET chunk_size = $2 WHERE id = $1", connection, transaction)
        {
            Parameters = { new() { Value = id }, new() { Value = chunkSize } },
        })
        {
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }
        await transaction.CommitAsync();
        // As after an upload: the owner's metadata reads stay on the primary until the replica has caught up.
        await platform.Files.Services.GetRequiredService<FileDataSources>().NoteWriteAsync(user.UserId);
    }

    private Task<HttpResponseMessage> GetWithRangeAsync(string range) =>
        user.GetAsync($"/api/files/{file.Id}/content", h => Assert.True(h.TryAddWithoutValidation("Range", range)));
}
