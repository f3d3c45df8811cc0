using System.Globalization;
using System.Net;
using Npgsql;
using Platform.Files.Storage;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>
/// <c>HEAD /api/files/{id}/content</c>, as download managers and caches send it before a ranged GET: the status and
/// headers GET answers to the same request, and no body — answered from the file's row, the content never read.
/// </summary>
[Collection(FilesTierCollection.Name)]
public sealed class HeadTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private const int Size = 2 * StoredContentStream.SegmentSize + 777;

    /// <summary>What a client learns from the headers before it asks for bytes; Date and the like aside.</summary>
    private static readonly string[] ComparedHeaders =
        ["Content-Length", "Content-Range", "Content-Type", "Content-Disposition", "ETag", "Last-Modified", "Accept-Ranges", "X-Content-Type-Options"];

    private FilesPlatform platform = null!;
    private FilesClient user = null!;
    private UploadedFile file = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_head");
        user = await platform.NewUserAsync();
        file = await user.UploadOkAsync(GeneratedContentStream.Bytes(Size, seed: 11), "film.bin", "application/octet-stream");
    }

    public async Task DisposeAsync()
    {
        user.Dispose();
        await platform.DisposeAsync();
    }

    /// <summary>Requests as (Range, a condition header, the validator it names), with the status GET answers them.</summary>
    public static TheoryData<string?, string?, string?, HttpStatusCode> Requests() => new()
    {
        { null, null, null, HttpStatusCode.OK },
        { "bytes=100-199", null, null, HttpStatusCode.PartialContent },
        { "bytes=-10", null, null, HttpStatusCode.PartialContent },
        { $"bytes={Size}-", null, null, HttpStatusCode.RequestedRangeNotSatisfiable },
        { "bytes=0-1,5-6", null, null, HttpStatusCode.OK },
        { "bytes=0-9", "If-Range", "etag", HttpStatusCode.PartialContent },
        { "bytes=0-9", "If-Range", "other", HttpStatusCode.OK },
        { null, "If-None-Match", "etag", HttpStatusCode.NotModified },
        { null, "If-Match", "other", HttpStatusCode.PreconditionFailed },
        { $"bytes={Size}-", "If-Unmodified-Since", "before", HttpStatusCode.PreconditionFailed },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Head_answers_the_status_and_headers_get_does_and_no_body(string? range, string? condition, string? validator, HttpStatusCode status)
    {
        using var get = await SendAsync(HttpMethod.Get, range, condition, validator);
        using var head = await SendAsync(HttpMethod.Head, range, condition, validator);

        Assert.Equal(status, get.StatusCode);
        Assert.Equal(status, head.StatusCode);
        foreach (var name in ComparedHeaders)
        {
            Assert.Equal(Header(get, name), Header(head, name));
        }
        if (status is HttpStatusCode.OK or HttpStatusCode.PartialContent)
        {
            Assert.Equal((await get.Content.ReadAsByteArrayAsync()).Length.ToString(CultureInfo.InvariantCulture), Header(head, "Content-Length"));
        }
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    /// <summary>With its chunks gone, GET cannot send the file; HEAD, which never reads them, still describes it.</summary>
    [Fact]
    public async Task Head_is_answered_from_the_files_row_without_reading_its_content()
    {
        await using (var connection = new NpgsqlConnection(platform.Files.DatabaseConnectionString))
        {
            await connection.OpenAsync();
            await using var delete = new NpgsqlCommand("DELETE FROM file_chunks WHERE file_id = $1", connection) { Parameters = { new() { Value = file.Id } } };
            Assert.True(await delete.ExecuteNonQueryAsync() > 0);
        }

        using var head = await SendAsync(HttpMethod.Head, "bytes=1000-", null, null);
        using var get = await SendAsync(HttpMethod.Get, "bytes=1000-", null, null);

        Assert.Equal(HttpStatusCode.PartialContent, head.StatusCode);
        Assert.Equal((Size - 1000).ToString(CultureInfo.InvariantCulture), Header(head, "Content-Length"));
        Assert.Equal($"\"{file.Sha256}\"", head.Headers.ETag?.Tag);
        Assert.Equal(HttpStatusCode.InternalServerError, get.StatusCode);
    }

    /// <summary>The other GET routes answer HEAD by the platform's convention; content keeps its own HEAD endpoint.</summary>
    [Theory]
    [InlineData("/api/files", HttpStatusCode.OK)]
    [InlineData("/api/files?limit=0", HttpStatusCode.BadRequest)]
    [InlineData("/api/files/{id}", HttpStatusCode.OK)]
    [InlineData("/api/files/00000000-0000-0000-0000-000000000001", HttpStatusCode.NotFound)]
    public async Task Head_of_the_listing_and_metadata_answers_as_get_does(string path, HttpStatusCode status)
    {
        var answers = await HeadAndGet.SendAsync(user.Http, path.Replace("{id}", file.Id.ToString(), StringComparison.Ordinal), user.AccessToken, "Cache-Control");

        Assert.Equal(status, answers.Status);
        Assert.Empty(answers.Differences);
    }

    /// <summary>Content's GET is marked WithSeparateHead: without it, both endpoints of that route would take HEAD and every HEAD would be a 500.</summary>
    [Fact]
    public void Content_keeps_its_own_head_and_no_route_has_two()
    {
        Assert.DoesNotContain("/api/files/{id}/content", ApiDocumentCoverage.ImplicitHeads(platform.Files.Services));
        Assert.Contains("/api/files/{id}", ApiDocumentCoverage.ImplicitHeads(platform.Files.Services));
        Assert.Empty(ApiDocumentCoverage.RoutesWithTwoHeads(platform.Files.Services));
    }

    [Fact]
    public async Task Head_of_another_users_file_is_404_as_get_is()
    {
        using var other = await platform.NewUserAsync();

        foreach (var path in new[] { $"/api/files/{file.Id}", $"/api/files/{file.Id}/content" })
        {
            var answers = await HeadAndGet.SendAsync(other.Http, path, other.AccessToken);
            Assert.Equal(HttpStatusCode.NotFound, answers.Status);
            Assert.Empty(answers.Differences);
        }
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string? range, string? condition, string? validator) =>
        user.SendAsync(method, $"/api/files/{file.Id}/content", null, headers =>
        {
            if (range is not null)
            {
                headers.TryAddWithoutValidation("Range", range);
            }
            if (condition is not null)
            {
                headers.TryAddWithoutValidation(condition, Validator(validator!));
            }
        });

    /// <summary>The header as it came on the wire, or null: no value HttpClient would work out from a buffered body.</summary>
    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var values) || response.Content.Headers.NonValidated.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;

    /// <summary>A validator of <see cref="file"/>: its ETag, another one, or a day before it was stored.</summary>
    private string Validator(string kind) => kind switch
    {
        "etag" => $"\"{file.Sha256}\"",
        "other" => "\"0000\"",
        "before" => file.CreatedAt.AddDays(-1).ToString("R", CultureInfo.InvariantCulture),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
