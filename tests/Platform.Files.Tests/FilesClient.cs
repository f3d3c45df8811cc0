using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Files.Tests;

public sealed record UploadedFile(Guid Id, string Name, long Size, string Sha256, string ContentType, DateTimeOffset CreatedAt);

public sealed record FilePage(List<UploadedFile> Items, string? NextCursor);

/// <summary>The files API as one user's client uses it, so tests read as what a user does.</summary>
public sealed class FilesClient(HttpClient http, HttpClient authHttp, Guid userId, string accessToken) : IDisposable
{
    public Guid UserId { get; } = userId;

    public HttpClient Http { get; } = http;

    /// <summary>The user's bearer token, for requests HttpClient cannot make (<see cref="RawRequest"/>).</summary>
    public string AccessToken { get; } = accessToken;

    public Task<HttpResponseMessage> UploadRawAsync(HttpContent content, string? name)
    {
        var path = name is null ? "/api/files" : "/api/files?name=" + Uri.EscapeDataString(name);
        return SendAsync(HttpMethod.Post, path, content);
    }

    public Task<HttpResponseMessage> UploadRawAsync(byte[] content, string? name, string contentType = "application/octet-stream") =>
        UploadRawAsync(new ByteArrayContent(content) { Headers = { ContentType = MediaTypeHeaderValue.Parse(contentType) } }, name);

    public Task<HttpResponseMessage> UploadMultipartAsync(HttpContent fileContent, string fileName)
    {
        var form = new MultipartFormDataContent { { new StringContent("a field before the file"), "note" }, { fileContent, "file", fileName } };
        return SendAsync(HttpMethod.Post, "/api/files", form);
    }

    public async Task<UploadedFile> UploadOkAsync(byte[] content, string name = "notes.txt", string contentType = "text/plain")
    {
        using var response = await UploadRawAsync(content, name, contentType);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<UploadedFile>())!;
    }

    public Task<HttpResponseMessage> GetAsync(string path, Action<HttpRequestHeaders>? headers = null) => SendAsync(HttpMethod.Get, path, null, headers);

    public Task<HttpResponseMessage> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    public async Task<FilePage> ListOkAsync(string query = "")
    {
        using var response = await GetAsync("/api/files" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<FilePage>())!;
    }

    /// <summary>Every file of the user, following nextCursor to the end.</summary>
    public async Task<List<UploadedFile>> ListAllAsync(int limit = 200)
    {
        var all = new List<UploadedFile>();
        string? cursor = null;
        do
        {
            var page = await ListOkAsync($"?limit={limit}" + (cursor is null ? "" : "&cursor=" + cursor));
            all.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return all;
    }

    public Task<HttpResponseMessage> DeleteAccountAsync()
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, "/api/auth/account");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        return authHttp.SendAsync(request);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, Action<HttpRequestHeaders>? headers = null, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        headers?.Invoke(request.Headers);
        return await Http.SendAsync(request, completion);
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(type, problem.GetProperty("type").GetString());
        return problem;
    }

    public void Dispose() => Http.Dispose();
}
