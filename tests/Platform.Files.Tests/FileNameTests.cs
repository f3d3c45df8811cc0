using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Platform.Files.Tests;

[Collection(FilesTierCollection.Name)]
public sealed class FileNameTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private FilesPlatform platform = null!;
    private FilesClient user = null!;

    public async Task InitializeAsync()
    {
        platform = await FilesPlatform.StartAsync(fixture.Tier, "files_names");
        user = await platform.NewUserAsync();
    }

    public async Task DisposeAsync()
    {
        user.Dispose();
        await platform.DisposeAsync();
    }

    public static TheoryData<string, string> HostileNames() => new()
    {
        { "../../etc/passwd", "passwd" },
        { "..\\..\\Windows\\System32\\drivers\\etc\\hosts", "hosts" },
        { "/absolute/path/report.pdf", "report.pdf" },
        { "bell\u0007null\u0000tab\tnew\r\nline.txt", "bellnulltabnewline.txt" },
        { "invoice\u202Efdp.exe", "invoicefdp.exe" },
        { "zero\u200Bwidth\u2066isolate\u2069.txt", "zerowidthisolate.txt" },
        { "  spaced  ", "spaced" },
        { "", "file" },
        { "..", "file" },
        { "dir/", "file" },
        { "\u0001\u0002", "file" },
        { "日本語の名前.txt", "日本語の名前.txt" },
    };

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task A_hostile_name_comes_back_sanitised(string sent, string stored)
    {
        using var response = await user.UploadRawAsync(new ByteArrayContent([1]), sent);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var file = (await response.Content.ReadFromJsonAsync<UploadedFile>())!;
        Assert.Equal(stored, file.Name);
        using var download = await user.GetAsync($"/api/files/{file.Id}/content");
        Assert.Equal(stored, download.Content.Headers.ContentDisposition?.FileNameStar);
    }

    [Fact]
    public async Task A_hostile_multipart_file_name_comes_back_sanitised()
    {
        using var response = await user.UploadMultipartAsync(new ByteArrayContent([1]), "../../etc/passwd");

        Assert.Equal("passwd", (await response.Content.ReadFromJsonAsync<UploadedFile>())!.Name);
    }

    [Fact]
    public async Task A_very_long_name_is_cut_to_255_utf8_bytes_at_a_character_boundary_keeping_its_extension()
    {
        var sent = string.Concat(Enumerable.Repeat("é😀", 200)) + ".pdf";

        using var response = await user.UploadRawAsync(new ByteArrayContent([1]), sent);

        var stored = (await response.Content.ReadFromJsonAsync<UploadedFile>())!.Name;
        Assert.InRange(Encoding.UTF8.GetByteCount(stored), 250, 255);
        Assert.EndsWith(".pdf", stored, StringComparison.Ordinal);
        Assert.StartsWith(stored[..^4], sent, StringComparison.Ordinal);
        Assert.Equal(stored, Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(stored))); // no half of a surrogate pair
    }
}
