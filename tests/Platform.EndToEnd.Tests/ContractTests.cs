using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// The client flows of the README through the gateway, every answer checked against the published document by
/// <see cref="ContractCheckingHandler"/> (status, required headers, body schema); the asserts here only say which
/// answer each step must get.
/// </summary>
[Collection(LocalPlatformCollection.Name)]
public sealed class ContractTests(EndToEndPlatform platform)
{
    private const string Password = "correct-Horse-battery-9";

    [Fact]
    public async Task Registration_login_and_the_public_reads_answer_as_documented()
    {
        var (http, checker) = await platform.CheckedClientAsync();
        using var _ = http;
        var email = $"contract-{Guid.NewGuid():N}@example.org";

        await ExpectAsync(http, HttpMethod.Post, "/api/auth/register", HttpStatusCode.Created, Json(new { email, password = Password, name = "Ada" }));
        await ExpectAsync(http, HttpMethod.Post, "/api/auth/register", HttpStatusCode.Conflict, Json(new { email, password = Password }));
        await ExpectAsync(http, HttpMethod.Post, "/api/auth/register", HttpStatusCode.BadRequest, Json(new { email = "not-an-address", password = "short" }));
        await ExpectAsync(http, HttpMethod.Post, "/api/auth/register", HttpStatusCode.BadRequest, new StringContent("{\"email\":", Encoding.UTF8, "application/json"));
        await ExpectAsync(http, HttpMethod.Post, "/api/auth/login", HttpStatusCode.Unauthorized, Json(new { email, password = "wrong-Password-1" }));
        await ExpectAsync(http, HttpMethod.Post, "/api/auth/login", HttpStatusCode.BadRequest, Json(new { email }));
        var tokens = await ExpectJsonAsync(http, HttpMethod.Post, "/api/auth/login", HttpStatusCode.OK, Json(new { email, password = Password }));
        var access = tokens.GetProperty("accessToken").GetString()!;

        var me = await ExpectJsonAsync(http, HttpMethod.Get, "/api/auth/me", HttpStatusCode.OK, token: access);
        await ExpectAsync(http, HttpMethod.Get, "/api/auth/me", HttpStatusCode.Unauthorized);
        await ExpectAsync(http, HttpMethod.Get, "/api/auth/me", HttpStatusCode.Unauthorized, token: "garbage");
        await ExpectAsync(http, HttpMethod.Get, "/api/auth/config", HttpStatusCode.OK);
        await ExpectAsync(http, HttpMethod.Get, "/.well-known/jwks.json", HttpStatusCode.OK);
        await ExpectAsync(http, HttpMethod.Get, "/.well-known/openid-configuration", HttpStatusCode.OK);

        Assert.Equal(email, me.GetProperty("email").GetString());
        Assert.Equal(13, checker.Checked);
    }

    [Fact]
    public async Task Sessions_refresh_forward_auth_and_logout_answer_as_documented()
    {
        var (http, checker) = await platform.CheckedClientAsync();
        using var _ = http;
        var first = await SignUpAsync(http);
        var email = first.Email;
        await ExpectAsync(http, HttpMethod.Post, "/api/auth/login", HttpStatusCode.OK, Json(new { email, password = Password }));

        var sessions = await ExpectJsonAsync(http, HttpMethod.Get, "/api/auth/sessions", HttpStatusCode.OK, token: first.Access);
        await ExpectAsync(http, HttpMethod.Post, "/api/auth/sessions/current/activity", HttpStatusCode.NoContent, token: first.Access);
        await ExpectAsync(http, HttpMethod.Get, "/api/auth/verify", HttpStatusCode.OK, token: first.Access);
        await ExpectAsync(http, HttpMethod.Get, "/api/auth/verify", HttpStatusCode.Unauthorized);
        await ExpectAsync(http, HttpMethod.Delete, $"/api/auth/sessions/{Guid.NewGuid()}", HttpStatusCode.NotFound, token: first.Access);
        var refreshed = await ExpectJsonAsync(http, HttpMethod.Post, "/api/auth/refresh", HttpStatusCode.OK, Json(new { refreshToken = first.Refresh }));
        await ExpectAsync(http, HttpMethod.Post, "/api/auth/refresh", HttpStatusCode.Unauthorized, Json(new { refreshToken = first.Refresh }));
        var access = (await ExpectJsonAsync(http, HttpMethod.Post, "/api/auth/login", HttpStatusCode.OK, Json(new { email, password = Password })))
            .GetProperty("accessToken").GetString()!;
        await ExpectAsync(http, HttpMethod.Delete, "/api/auth/sessions", HttpStatusCode.NoContent, token: access);
        await ExpectAsync(http, HttpMethod.Post, "/api/auth/logout", HttpStatusCode.NoContent, token: access);

        Assert.Equal(2, sessions.GetProperty("items").GetArrayLength());
        Assert.Equal("Bearer", refreshed.GetProperty("tokenType").GetString());
        Assert.Equal(13, checker.Checked);
    }

    [Fact]
    public async Task Tasks_crud_with_etags_answers_as_documented()
    {
        var (http, checker) = await platform.CheckedClientAsync();
        using var _ = http;
        var user = await SignUpAsync(http);

        using var created = await SendAsync(http, HttpMethod.Post, "/api/tasks", Json(new { title = "Contract", dueAt = "2026-12-24T17:00:00+01:00" }), user.Access);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var etag = created.Headers.ETag!.Tag;
        using var read = await SendAsync(http, HttpMethod.Get, $"/api/tasks/{id}", token: user.Access);
        Assert.Equal(etag, read.Headers.ETag!.Tag);
        await ExpectAsync(http, HttpMethod.Get, "/api/tasks?status=todo&limit=10", HttpStatusCode.OK, token: user.Access);
        await ExpectAsync(http, HttpMethod.Get, "/api/tasks?limit=0", HttpStatusCode.BadRequest, token: user.Access);

        using var replaced = await SendAsync(http, HttpMethod.Put, $"/api/tasks/{id}", Json(new { title = "Contract v2", status = "in_progress" }), user.Access, ifMatch: etag);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        await ExpectAsync(http, HttpMethod.Put, $"/api/tasks/{id}", HttpStatusCode.PreconditionFailed, Json(new { title = "stale" }), user.Access, ifMatch: etag);
        using var patched = await SendAsync(http, HttpMethod.Patch, $"/api/tasks/{id}",
            new StringContent("{\"status\":\"done\",\"dueAt\":null}", Encoding.UTF8, "application/merge-patch+json"), user.Access, ifMatch: replaced.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        await ExpectAsync(http, HttpMethod.Patch, $"/api/tasks/{id}", HttpStatusCode.BadRequest, Json(new { title = (string?)null }), user.Access);
        await ExpectAsync(http, HttpMethod.Post, "/api/tasks", HttpStatusCode.BadRequest, Json(new { title = "x", id = Guid.NewGuid() }), user.Access);
        await ExpectAsync(http, HttpMethod.Post, "/api/tasks", HttpStatusCode.BadRequest, new StringContent("{", Encoding.UTF8, "application/json"), user.Access);
        await ExpectAsync(http, HttpMethod.Post, "/api/tasks", HttpStatusCode.UnsupportedMediaType, new StringContent("title=x", Encoding.UTF8, "text/plain"), user.Access);
        await ExpectAsync(http, HttpMethod.Delete, $"/api/tasks/{id}", HttpStatusCode.PreconditionFailed, token: user.Access, ifMatch: etag);
        await ExpectAsync(http, HttpMethod.Delete, $"/api/tasks/{id}", HttpStatusCode.NoContent, token: user.Access);
        await ExpectAsync(http, HttpMethod.Get, $"/api/tasks/{id}", HttpStatusCode.NotFound, token: user.Access);
        await ExpectAsync(http, HttpMethod.Get, "/api/tasks", HttpStatusCode.Unauthorized);

        Assert.Equal(17, checker.Checked);
    }

    [Fact]
    public async Task File_upload_and_ranged_conditional_download_answer_as_documented()
    {
        var (http, checker) = await platform.CheckedClientAsync();
        using var _ = http;
        var user = await SignUpAsync(http);
        var bytes = Encoding.UTF8.GetBytes("0123456789abcdefghij");

        var raw = await ExpectJsonAsync(http, HttpMethod.Post, "/api/files?name=notes.txt", HttpStatusCode.Created, new ByteArrayContent(bytes) { Headers = { ContentType = new("text/plain") } }, user.Access);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(bytes), "file", "form.bin" } };
        await ExpectAsync(http, HttpMethod.Post, "/api/files", HttpStatusCode.Created, form, user.Access);
        using var noFile = new MultipartFormDataContent { { new StringContent("x"), "other" } };
        await ExpectAsync(http, HttpMethod.Post, "/api/files", HttpStatusCode.BadRequest, noFile, user.Access);
        var id = raw.GetProperty("id").GetString();
        await ExpectAsync(http, HttpMethod.Get, "/api/files?limit=1", HttpStatusCode.OK, token: user.Access);
        await ExpectAsync(http, HttpMethod.Get, "/api/files?limit=x", HttpStatusCode.BadRequest, token: user.Access);
        await ExpectAsync(http, HttpMethod.Get, $"/api/files/{id}", HttpStatusCode.OK, token: user.Access);

        using var whole = await SendAsync(http, HttpMethod.Get, $"/api/files/{id}/content", token: user.Access);
        using var range = await SendAsync(http, HttpMethod.Get, $"/api/files/{id}/content", token: user.Access, headers: ("Range", "bytes=5-9"));
        using var notModified = await SendAsync(http, HttpMethod.Get, $"/api/files/{id}/content", token: user.Access, headers: ("If-None-Match", whole.Headers.ETag!.Tag));
        using var pastTheEnd = await SendAsync(http, HttpMethod.Get, $"/api/files/{id}/content", token: user.Access, headers: ("Range", "bytes=100-"));
        await ExpectAsync(http, HttpMethod.Delete, $"/api/files/{id}", HttpStatusCode.NoContent, token: user.Access);
        await ExpectAsync(http, HttpMethod.Get, $"/api/files/{id}", HttpStatusCode.NotFound, token: user.Access);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.PartialContent, HttpStatusCode.NotModified, HttpStatusCode.RequestedRangeNotSatisfiable),
            (whole.StatusCode, range.StatusCode, notModified.StatusCode, pastTheEnd.StatusCode));
        Assert.Equal("56789", await range.Content.ReadAsStringAsync());
        Assert.Equal(14, checker.Checked);
    }

    [Fact]
    public async Task Deleting_the_account_answers_as_documented()
    {
        var (http, checker) = await platform.CheckedClientAsync();
        using var _ = http;
        var user = await SignUpAsync(http);

        await ExpectAsync(http, HttpMethod.Delete, "/api/auth/account", HttpStatusCode.NoContent, token: user.Access);

        Assert.Equal(3, checker.Checked);
    }

    /// <summary>
    /// The refusals a client must handle: the event streams a user may hold spent (the gateway's own 429) and an
    /// account's logins throttled after repeated wrong passwords (auth's 429) — each with its Retry-After and problem.
    /// </summary>
    [Fact]
    public async Task Refusals_answer_as_documented()
    {
        var (http, checker) = await platform.CheckedClientAsync();
        using var _ = http;
        var user = await SignUpAsync(http);

        // The streams a user may hold (EventStream:MaxStreamsPerUser, 8 by default), held open by a plain client.
        using var plain = new HttpClient { BaseAddress = platform.Services["gateway"], Timeout = TimeSpan.FromSeconds(30) };
        var streams = new List<HttpResponseMessage>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                using var open = new HttpRequestMessage(HttpMethod.Get, "/api/events") { Headers = { Authorization = new("Bearer", user.Access) } };
                streams.Add(await plain.SendAsync(open, HttpCompletionOption.ResponseHeadersRead));
                Assert.Equal(HttpStatusCode.OK, streams[^1].StatusCode);
            }
            using var refused = await SendAsync(http, HttpMethod.Get, "/api/events", token: user.Access);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
        }
        finally
        {
            streams.ForEach(stream => stream.Dispose());
        }

        // Wrong passwords: the first ones are 401s, then the account's logins are blocked for a while (1 s, 2 s, …).
        var statuses = new List<HttpStatusCode>();
        while (statuses.Count < 8 && !statuses.Contains(HttpStatusCode.TooManyRequests))
        {
            using var wrong = await SendAsync(http, HttpMethod.Post, "/api/auth/login", Json(new { email = user.Email, password = "wrong-Password-1" }));
            statuses.Add(wrong.StatusCode);
            if (wrong.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.NotNull(wrong.Headers.RetryAfter);
            }
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.All(statuses[..^1], status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.InRange(statuses.Count, 6, 7);
        Assert.Equal(2 + 1 + statuses.Count, checker.Checked);
    }

    private static async Task<(string Email, string Access, string Refresh)> SignUpAsync(HttpClient http)
    {
        var email = $"contract-{Guid.NewGuid():N}@example.org";
        await ExpectAsync(http, HttpMethod.Post, "/api/auth/register", HttpStatusCode.Created, Json(new { email, password = Password }));
        var tokens = await ExpectJsonAsync(http, HttpMethod.Post, "/api/auth/login", HttpStatusCode.OK, Json(new { email, password = Password }));
        return (email, tokens.GetProperty("accessToken").GetString()!, tokens.GetProperty("refreshToken").GetString()!);
    }

    private static JsonContent Json(object body) => JsonContent.Create(body);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, HttpContent? content = null, string? token = null,
        string? ifMatch = null, (string Name, string Value)? headers = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }
        if (headers is { } header)
        {
            request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        }
        return await http.SendAsync(request);
    }

    private static async Task ExpectAsync(HttpClient http, HttpMethod method, string path, HttpStatusCode expected, HttpContent? content = null, string? token = null, string? ifMatch = null)
    {
        using var response = await SendAsync(http, method, path, content, token, ifMatch);
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode}, expected {(int)expected}: {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<JsonElement> ExpectJsonAsync(HttpClient http, HttpMethod method, string path, HttpStatusCode expected, HttpContent? content = null, string? token = null)
    {
        using var response = await SendAsync(http, method, path, content, token);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode}, expected {(int)expected}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
