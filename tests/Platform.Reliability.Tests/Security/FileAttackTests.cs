using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Platform.Reliability.Tests.Security;

/// <summary>
/// File names that climb out of a directory, paths that try to, and active content a browser might sniff and run:
/// names keep only their last segment, traversal paths find nothing, and every download is an attachment the
/// browser must not sniff.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class FileAttackTests(ReliabilityPlatform platform)
{
    private static readonly (string Name, string ContentType, string Body)[] Uploads =
    [
        ("../../../etc/passwd", "text/plain", "root:x:0:0"),
        ("..\\..\\windows\\system32\\evil.exe", "application/x-msdownload", "MZ"),
        ("page.html", "text/html", "<html><script>alert(document.cookie)</script></html>"),
        ("image.svg", "image/svg+xml", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"),
        ("looks-like.png", "image/png", "<html><script>alert(1)</script>"),
        ("no-type", "", "<script>alert(1)</script>"),
    ];

    private static readonly string[] TraversalPaths =
    [
        "/api/files/..%2F..%2Fetc%2Fpasswd", "/api/files/%2e%2e/%2e%2e/etc/passwd", "/api/files/..%5C..%5Cwindows%5Cwin.ini",
        "/api/files/%252e%252e%252fetc%252fpasswd", "/api/files/00000000-0000-0000-0000-000000000000/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    ];

    [Fact]
    [Trait("Category", "Drill")]
    public async Task Hostile_names_keep_their_last_segment_and_downloads_are_attachments_that_must_not_be_sniffed()
    {
        var user = await platform.SignUpAsync("files-attack");
        var rows = new List<IReadOnlyList<object>>();
        foreach (var (name, contentType, body) in Uploads)
        {
            using var upload = platform.Request(HttpMethod.Post, "/api/files?name=" + Uri.EscapeDataString(name), user.ClientAddress, user.AccessToken);
            upload.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType.Length > 0)
            {
                upload.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
            using var stored = await platform.Client.SendAsync(upload);
            var file = await stored.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
            using var download = platform.Request(HttpMethod.Get, $"/api/files/{file.GetProperty("id")}/content", user.ClientAddress, user.AccessToken);
            using var served = await platform.Client.SendAsync(download);
            rows.Add([name, contentType, file.GetProperty("name").GetString()!, served.Content.Headers.ContentType?.ToString() ?? "",
                served.Content.Headers.ContentDisposition?.ToString() ?? "", served.Headers.TryGetValues("X-Content-Type-Options", out var nosniff) ? string.Join(",", nosniff) : ""]);
        }
        var traversal = new List<IReadOnlyList<object>>();
        foreach (var path in TraversalPaths)
        {
            using var request = platform.Request(HttpMethod.Get, path, user.ClientAddress, user.AccessToken);
            using var answer = await platform.Client.SendAsync(request);
            traversal.Add([path, (int)answer.StatusCode, answer.Content.Headers.ContentType?.MediaType ?? ""]);
        }

        Report.Write("security", "files", $"""
            ### Path traversal and content sniffing in files

            {Report.Table(["name sent", "type sent", "name stored", "type served", "Content-Disposition", "X-Content-Type-Options"], rows)}
            {Report.Table(["traversal path", "answer", "media type"], traversal)}
            """);
        Assert.All(rows, row =>
        {
            Assert.DoesNotContain('/', (string)row[2]);
            Assert.DoesNotContain('\\', (string)row[2]);
            Assert.StartsWith("attachment", (string)row[4], StringComparison.Ordinal);
            Assert.Equal("nosniff", row[5]);
        });
        Assert.All(traversal, row => Assert.True((int)row[1] is 400 or 404, $"{row[0]} answered {row[1]}"));
    }
}
