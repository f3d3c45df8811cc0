using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Platform.Tasks.Tests;

public sealed record TaskView(Guid Id, string Title, string Description, string Status, DateTimeOffset? DueAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int Version);

public sealed record PageView(List<TaskView> Items, string? NextCursor);

/// <summary>The tasks API as one user's client uses it, so tests read as what the user does.</summary>
public sealed class TasksClient(HttpClient http, Guid userId, string accessToken)
{
    public HttpClient Http { get; } = http;

    public Guid UserId { get; } = userId;

    public string AccessToken { get; } = accessToken;

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string contentType = "application/json", string? ifMatch = null, string? token = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token ?? AccessToken);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }
        return Http.SendAsync(request);
    }

    public static string Json(object value) => JsonSerializer.Serialize(value, JsonSerializerOptions.Web);

    public Task<HttpResponseMessage> CreateAsync(object body) => SendAsync(HttpMethod.Post, "/api/tasks", Json(body));

    public async Task<TaskView> CreateOkAsync(string title, string? status = null)
    {
        using var response = await CreateAsync(status is null ? new { title } : new { title, status });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TaskView>(JsonSerializerOptions.Web))!;
    }

    public async Task<TaskView> GetOkAsync(Guid id)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/api/tasks/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TaskView>(JsonSerializerOptions.Web))!;
    }

    public async Task<PageView> ListOkAsync(string query = "")
    {
        using var response = await SendAsync(HttpMethod.Get, "/api/tasks" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PageView>(JsonSerializerOptions.Web))!;
    }

    /// <summary>Every task of the user, page by page.</summary>
    public async Task<List<TaskView>> ListAllAsync(int limit, string? status = null)
    {
        var all = new List<TaskView>();
        string? cursor = null;
        do
        {
            var query = $"?limit={limit}" + (status is null ? "" : $"&status={status}") + (cursor is null ? "" : $"&cursor={cursor}");
            var page = await ListOkAsync(query);
            all.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return all;
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(type, problem.GetProperty("type").GetString());
        return problem;
    }
}
