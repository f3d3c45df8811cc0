using System.Net;
using System.Net.Http.Headers;
using Platform.Hosting.Problems;

namespace Platform.Files.Tests;

[Collection(FilesTierCollection.Name)]
public sealed class IsolationTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private FilesPlatform platform = null!;
    private FilesClient alice = null!;
    private FilesClient bob = null!;
    private UploadedFile alicesFile = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_isolation");
        alice = await platform.NewUserAsync();
        bob = await platform.NewUserAsync();
        alicesFile = await alice.UploadOkAsync([1, 2, 3, 4], "alice.txt");
    }

    public async Task DisposeAsync()
    {
        alice.Dispose();
        bob.Dispose();
        await platform.DisposeAsync();
    }

    [Fact]
    public async Task Another_users_file_metadata_is_404()
    {
        using var response = await bob.GetAsync($"/api/files/{alicesFile.Id}");

        await FilesClient.ProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    [Fact]
    public async Task Another_users_file_content_is_404_even_with_a_range_or_its_etag()
    {
        using var plain = await bob.GetAsync($"/api/files/{alicesFile.Id}/content");
        using var ranged = await bob.GetAsync($"/api/files/{alicesFile.Id}/content", h => h.Range = new RangeHeaderValue(0, 1));
        using var conditional = await bob.GetAsync($"/api/files/{alicesFile.Id}/content", h => h.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{alicesFile.Sha256}\"")));

        await FilesClient.ProblemAsync(plain, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        await FilesClient.ProblemAsync(ranged, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        await FilesClient.ProblemAsync(conditional, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    [Fact]
    public async Task Head_of_another_users_file_content_is_404_as_get_is()
    {
        using var get = await bob.GetAsync($"/api/files/{alicesFile.Id}/content");
        using var head = await bob.SendAsync(HttpMethod.Head, $"/api/files/{alicesFile.Id}/content", null);
        using var headWithEtag = await bob.SendAsync(HttpMethod.Head, $"/api/files/{alicesFile.Id}/content", null,
            h => h.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{alicesFile.Sha256}\"")));

        await FilesClient.ProblemAsync(get, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, headWithEtag.StatusCode);
        Assert.Null(head.Headers.ETag);
        Assert.Null(head.Content.Headers.ContentDisposition);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Deleting_another_users_file_is_404_and_leaves_it_in_place()
    {
        using var response = await bob.DeleteAsync($"/api/files/{alicesFile.Id}");

        await FilesClient.ProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        using var stillThere = await alice.GetAsync($"/api/files/{alicesFile.Id}/content");
        Assert.Equal([1, 2, 3, 4], await stillThere.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_list_never_shows_another_users_files()
    {
        var bobsFile = await bob.UploadOkAsync([5], "bob.txt");

        Assert.Equal([bobsFile.Id], (await bob.ListAllAsync()).Select(f => f.Id));
        Assert.Equal([alicesFile.Id], (await alice.ListAllAsync()).Select(f => f.Id));
    }

    [Fact]
    public async Task Another_users_cursor_shows_only_the_callers_own_files()
    {
        var bobsFile = await bob.UploadOkAsync([5], "bob.txt");

        var page = await bob.ListOkAsync("?cursor=" + Guid.CreateVersion7().ToString("N"));

        Assert.Equal([bobsFile.Id], page.Items.Select(f => f.Id));
    }
}
