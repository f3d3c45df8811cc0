using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Platform.Reliability.Tests;

/// <summary>The requests of the corpus that once answered 500 or an error without problem details, each pinned on its own.</summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class BadInputRegressionTests(ReliabilityPlatform platform)
{
    [Theory]
    [InlineData("POST", """{"title":"\ud800"}""", "invalid-json")]
    [InlineData("POST", """{"title":"ok","dueAt":"\udfff\ud800"}""", "invalid-json")]
    [InlineData("PATCH", """{"description":"\ud800"}""", "invalid-json")]
    [InlineData("POST", """{"title":"a\u0000b"}""", "validation")]
    [InlineData("PATCH", """{"description":"a\u0000b"}""", "validation")]
    public async Task A_task_body_with_a_lone_surrogate_or_a_NUL_is_a_400_not_a_500(string method, string body, string problem)
    {
        var user = await platform.SignUpAsync();
        var path = method == "POST" ? "/api/tasks" : await CreateTaskAsync(user);

        using var answer = await SendAsync(user, new HttpMethod(method), path, Encoding.UTF8.GetBytes(body), "application/json");

        await AssertProblemAsync(answer, HttpStatusCode.BadRequest, problem);
    }

    [Fact]
    public async Task A_task_body_with_bytes_that_are_not_UTF8_is_a_400_not_a_500()
    {
        var user = await platform.SignUpAsync();

        using var answer = await SendAsync(user, HttpMethod.Post, "/api/tasks", [.. """{"title":"a"""u8, 0x80, .. "\"}"u8], "application/json");

        await AssertProblemAsync(answer, HttpStatusCode.BadRequest, "invalid-json");
    }

    [Fact]
    public async Task A_login_whose_address_holds_a_NUL_is_an_ordinary_failed_login()
    {
        using var request = platform.Request(HttpMethod.Post, "/api/auth/login", platform.NewClientAddress());
        request.Content = JsonContent.Create(new { email = "a\u0000b@example.org", password = ReliabilityPlatform.Password });

        using var answer = await platform.Client.SendAsync(request);

        await AssertProblemAsync(answer, HttpStatusCode.Unauthorized, "invalid-credentials");
    }

    [Theory]
    [InlineData("application/json; charset=nonsense")]
    [InlineData("application/json; charset=")]
    [InlineData("application/json; charset=utf-16")]
    public async Task An_auth_body_declaring_a_charset_other_than_UTF8_is_a_415(string contentType)
    {
        using var request = platform.Request(HttpMethod.Post, "/api/auth/register", platform.NewClientAddress());
        request.Content = new StringContent("""{"email":"charset@example.org","password":"correct-Horse-battery-9"}""");
        request.Content.Headers.Remove("Content-Type");
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var answer = await platform.Client.SendAsync(request);

        await AssertProblemAsync(answer, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Theory]
    [InlineData("bytes=5-")]
    [InlineData("bytes=99999-100000")]
    [InlineData("bytes=-0")]
    public async Task A_range_past_the_end_of_a_file_is_a_416_in_problem_details_with_the_size(string range)
    {
        var user = await platform.SignUpAsync();
        using var upload = platform.Request(HttpMethod.Post, "/api/files?name=five.txt", user.ClientAddress, user.AccessToken);
        upload.Content = new ByteArrayContent("12345"u8.ToArray());
        using var uploaded = await platform.Client.SendAsync(upload);
        var id = (await uploaded.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetGuid();
        using var request = platform.Request(HttpMethod.Get, $"/api/files/{id}/content", user.ClientAddress, user.AccessToken);
        request.Headers.TryAddWithoutValidation("Range", range);

        using var answer = await platform.Client.SendAsync(request);

        await AssertProblemAsync(answer, HttpStatusCode.RequestedRangeNotSatisfiable, "range-not-satisfiable");
        Assert.Equal("bytes */5", answer.Content.Headers.ContentRange?.ToString());
    }

    private async Task<string> CreateTaskAsync(PlatformUser user)
    {
        using var answer = await SendAsync(user, HttpMethod.Post, "/api/tasks", """{"title":"target"}"""u8.ToArray(), "application/json");
        var id = (await answer.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetGuid();
        return $"/api/tasks/{id}";
    }

    private async Task<HttpResponseMessage> SendAsync(PlatformUser user, HttpMethod method, string path, byte[] body, string contentType)
    {
        using var request = platform.Request(method, path, user.ClientAddress, user.AccessToken);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return await platform.Client.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage answer, HttpStatusCode status, string problem)
    {
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == status, $"{(int)answer.StatusCode}: {body}");
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"/problems/{problem}\"", body, StringComparison.Ordinal);
    }
}
