using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Platform.Hosting.Problems;
using Platform.Testing;

namespace Platform.Files.Tests;

[Collection(FilesTierCollection.Name)]
public sealed class FilesApiTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private FilesPlatform platform = null!;
    private FilesClient user = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_api");
        user = await platform.NewUserAsync();
    }

    public async Task DisposeAsync()
    {
        user.Dispose();
        await platform.DisposeAsync();
    }

    [Fact]
    public async Task A_raw_upload_answers_201_with_the_file_and_its_location()
    {
        var content = Encoding.UTF8.GetBytes("hello, files");

        using var response = await user.UploadRawAsync(content, "hello.txt", "text/plain; charset=utf-8");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var file = (await response.Content.ReadFromJsonAsync<UploadedFile>())!;
        Assert.Equal($"/api/files/{file.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal(7, file.Id.Version);
        Assert.Equal("hello.txt", file.Name);
        Assert.Equal(content.Length, file.Size);
        Assert.Equal(Hashes.Sha256Hex(content), file.Sha256);
        Assert.Equal("text/plain; charset=utf-8", file.ContentType);
    }

    [Fact]
    public async Task A_multipart_upload_stores_the_file_part_with_its_name_and_type()
    {
        var content = Encoding.UTF8.GetBytes("{\"a\":1}");
        var part = new ByteArrayContent(content) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };

        using var response = await user.UploadMultipartAsync(part, "data.json");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var file = (await response.Content.ReadFromJsonAsync<UploadedFile>())!;
        Assert.Equal(("data.json", "application/json", content.Length, Hashes.Sha256Hex(content)), (file.Name, file.ContentType, file.Size, file.Sha256));
    }

    [Fact]
    public async Task A_multipart_form_without_a_file_part_is_400()
    {
        var form = new MultipartFormDataContent { { new StringContent("no file here"), "note" } };

        using var response = await user.SendAsync(HttpMethod.Post, "/api/files", form);

        await FilesClient.ProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
    }

    [Fact]
    public async Task A_multipart_body_that_never_closes_its_boundary_is_400()
    {
        var body = new StringContent("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\nabc");
        body.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");

        using var response = await user.SendAsync(HttpMethod.Post, "/api/files", body);

        await FilesClient.ProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.Empty(await user.ListAllAsync());
    }

    [Fact]
    public async Task A_raw_upload_without_a_name_or_type_gets_the_defaults()
    {
        using var response = await user.UploadRawAsync(new ByteArrayContent([1, 2, 3]), name: null);

        var file = (await response.Content.ReadFromJsonAsync<UploadedFile>())!;
        Assert.Equal(("file", "application/octet-stream"), (file.Name, file.ContentType));
    }

    [Theory]
    [InlineData("*/*")]
    [InlineData("text/*")]
    [InlineData("not a media type")]
    [InlineData("text/plain; charset")]
    public async Task A_content_type_that_is_not_a_valid_media_type_is_stored_as_octet_stream(string contentType)
    {
        var content = new ByteArrayContent([1]);
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", contentType));

        using var response = await user.UploadRawAsync(content, "x.bin");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("application/octet-stream", (await response.Content.ReadFromJsonAsync<UploadedFile>())!.ContentType);
    }

    /// <summary>
    /// A part's headers are not checked by Kestrel, and a quoted parameter may hold any octet: stored as it came, a
    /// control or non-ASCII character made every download of the file a 500 (Kestrel refuses it in Content-Type).
    /// </summary>
    [Theory]
    [InlineData("text/plain; x=\"\u0001\"")]
    [InlineData("text/plain; x=\"é\"")]
    public async Task A_part_content_type_with_a_control_or_non_ascii_character_is_stored_as_octet_stream(string contentType)
    {
        var part = new ByteArrayContent([1]);
        Assert.True(part.Headers.TryAddWithoutValidation("Content-Type", contentType));

        using var response = await user.UploadMultipartAsync(part, "x.bin");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var file = (await response.Content.ReadFromJsonAsync<UploadedFile>())!;
        Assert.Equal("application/octet-stream", file.ContentType);
        using var download = await user.GetAsync($"/api/files/{file.Id}/content");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
    }

    [Fact]
    public async Task The_metadata_of_a_file_is_what_the_upload_answered()
    {
        var uploaded = await user.UploadOkAsync([1, 2, 3], "three.bin", "application/x-three");

        using var response = await user.GetAsync($"/api/files/{uploaded.Id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(uploaded, await response.Content.ReadFromJsonAsync<UploadedFile>());
    }

    [Fact]
    public async Task The_content_comes_back_as_an_attachment_with_its_type_etag_and_nosniff()
    {
        var content = Encoding.UTF8.GetBytes("<script>alert(1)</script>");
        var uploaded = await user.UploadOkAsync(content, "résumé 2026.html", "text/html");

        using var response = await user.GetAsync($"/api/files/{uploaded.Id}/content");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content.Length, response.Content.Headers.ContentLength);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal($"\"{uploaded.Sha256}\"", response.Headers.ETag?.Tag);
        Assert.Equal("bytes", Assert.Single(response.Headers.AcceptRanges));
        var disposition = response.Content.Headers.ContentDisposition!;
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.Equal("résumé 2026.html", disposition.FileNameStar);
    }

    [Fact]
    public async Task If_none_match_with_the_current_etag_answers_304_without_a_body()
    {
        var uploaded = await user.UploadOkAsync([9, 9, 9]);

        using var response = await user.GetAsync($"/api/files/{uploaded.Id}/content", h => h.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{uploaded.Sha256}\"")));

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        using var other = await user.GetAsync($"/api/files/{uploaded.Id}/content", h => h.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\"")));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task If_match_with_another_etag_is_412_problem_details_that_name_the_files_own_version()
    {
        var uploaded = await user.UploadOkAsync([7, 7, 7]);

        using var response = await user.GetAsync($"/api/files/{uploaded.Id}/content", h => h.IfMatch.Add(new EntityTagHeaderValue("\"something-else\"")));

        var problem = await FilesClient.ProblemAsync(response, HttpStatusCode.PreconditionFailed, ProblemTypes.PreconditionFailed);
        Assert.Equal("The file is not the version your If-Match or If-Unmodified-Since names.", problem.GetProperty("title").GetString());
        Assert.Contains($"\"{uploaded.Sha256}\"", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal($"\"{uploaded.Sha256}\"", response.Headers.ETag?.Tag);
        Assert.Null(response.Content.Headers.ContentDisposition);
    }

    [Fact]
    public async Task The_list_pages_newest_first_with_a_cursor_and_ends_with_a_null_cursor()
    {
        var uploaded = new List<UploadedFile>();
        for (var i = 0; i < 5; i++)
        {
            uploaded.Add(await user.UploadOkAsync([(byte)i], $"f{i}.bin"));
        }

        var first = await user.ListOkAsync("?limit=2");
        var second = await user.ListOkAsync("?limit=2&cursor=" + first.NextCursor);
        var third = await user.ListOkAsync("?limit=2&cursor=" + second.NextCursor);

        var newestFirst = uploaded.AsEnumerable().Reverse().Select(f => f.Id).ToList();
        Assert.Equal(newestFirst, first.Items.Concat(second.Items).Concat(third.Items).Select(f => f.Id).Take(5).ToList());
        Assert.NotNull(second.NextCursor);
        Assert.Null(third.NextCursor);
        Assert.Equal(newestFirst, (await user.ListAllAsync()).Select(f => f.Id).ToList());
    }

    [Fact]
    public async Task The_list_has_at_most_50_items_by_default()
    {
        for (var i = 0; i < 51; i++)
        {
            await user.UploadOkAsync([(byte)i]);
        }

        var page = await user.ListOkAsync();

        Assert.Equal(50, page.Items.Count);
        Assert.NotNull(page.NextCursor);
        Assert.Single((await user.ListOkAsync("?cursor=" + page.NextCursor)).Items);
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=201")]
    [InlineData("?limit=-1")]
    [InlineData("?limit=ten")]
    [InlineData("?cursor=not-a-cursor")]
    [InlineData("?cursor=")]
    public async Task An_invalid_limit_or_cursor_is_400(string query)
    {
        using var response = await user.GetAsync("/api/files" + query);

        await FilesClient.ProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
    }

    [Fact]
    public async Task Deleting_a_file_answers_204_and_then_it_is_gone_from_every_route()
    {
        var uploaded = await user.UploadOkAsync([1, 2, 3]);

        using var deleted = await user.DeleteAsync($"/api/files/{uploaded.Id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var metadata = await user.GetAsync($"/api/files/{uploaded.Id}");
        await FilesClient.ProblemAsync(metadata, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        using var content = await user.GetAsync($"/api/files/{uploaded.Id}/content");
        await FilesClient.ProblemAsync(content, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        using var again = await user.DeleteAsync($"/api/files/{uploaded.Id}");
        await FilesClient.ProblemAsync(again, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        Assert.DoesNotContain(await user.ListAllAsync(), f => f.Id == uploaded.Id);
        Assert.Equal((0L, 0L), await platform.StoredRowsAsync(user.UserId));
    }

    [Theory]
    [InlineData("GET", "/api/files/{0}")]
    [InlineData("GET", "/api/files/{0}/content")]
    [InlineData("DELETE", "/api/files/{0}")]
    public async Task An_unknown_id_is_404(string method, string route)
    {
        using var response = await user.SendAsync(new HttpMethod(method), string.Format(System.Globalization.CultureInfo.InvariantCulture, route, Guid.CreateVersion7()), null);

        await FilesClient.ProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    [Theory]
    [InlineData("GET", "/api/files/not-a-uuid")]
    [InlineData("GET", "/api/files/not-a-uuid/content")]
    [InlineData("DELETE", "/api/files/not-a-uuid")]
    [InlineData("GET", "/api/files/%00")]
    [InlineData("GET", "/api/files/00000000-0000-0000-0000-00000000000g/content")]
    public async Task A_malformed_id_is_404_or_400_never_500(string method, string path)
    {
        using var response = await user.SendAsync(new HttpMethod(method), path, null);

        // 400 is Kestrel refusing a NUL in the path before routing; everything else does not match the {id:guid} route.
        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.BadRequest });
    }

    [Theory]
    [InlineData("POST", "/api/files")]
    [InlineData("GET", "/api/files")]
    [InlineData("GET", "/api/files/0197a8b2-0000-7000-8000-000000000000")]
    [InlineData("GET", "/api/files/0197a8b2-0000-7000-8000-000000000000/content")]
    [InlineData("HEAD", "/api/files/0197a8b2-0000-7000-8000-000000000000/content")]
    [InlineData("DELETE", "/api/files/0197a8b2-0000-7000-8000-000000000000")]
    public async Task Every_route_answers_401_without_a_token(string method, string path)
    {
        using var anonymous = new HttpClient { BaseAddress = platform.Files.Address };
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? new ByteArrayContent([1]) : null };

        using var response = await anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
