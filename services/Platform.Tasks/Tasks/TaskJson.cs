using System.Text.Json;

namespace Platform.Tasks.Tasks;

/// <summary>
/// A task as the JSON body of <c>GET /api/tasks/{id}</c>, with its version for the ETag. A cache hit carries the
/// bytes the cache holds straight to the response: reading a cached task costs no deserialising and serialising
/// again, which was a measurable part of the most frequent request (make bench, scenario 2).
/// </summary>
public sealed class TaskJson
{
    private static readonly byte[] VersionName = "version"u8.ToArray();

    private TaskJson(byte[] utf8, int version)
    {
        Utf8 = utf8;
        Version = version;
    }

    public byte[] Utf8 { get; }

    public int Version { get; }

    public string ETag => $"\"{Version}\"";

    public static TaskJson From(TaskItem task) => new(JsonSerializer.SerializeToUtf8Bytes(task, JsonSerializerOptions.Web), task.Version);

    /// <summary>The cached bytes, or null (a miss) when they are absent or not a task this version can answer with.</summary>
    public static TaskJson? FromCached(byte[]? utf8)
    {
        if (utf8 is null)
        {
            return null;
        }
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isVersion = reader.ValueTextEquals(VersionName);
                if (!reader.Read())
                {
                    return null;
                }
                if (isVersion)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var version) ? new TaskJson(utf8, version) : null;
                }
                reader.Skip();
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>200 with a task's JSON as it is; the OpenAPI document describes it as <see cref="TaskItem"/> (Produces).</summary>
public sealed class TaskJsonResult(TaskJson task) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public const string JsonContentType = "application/json; charset=utf-8";

    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => JsonContentType;

    public TaskJson Task { get; } = task;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType;
        response.ContentLength = Task.Utf8.Length;
        await response.Body.WriteAsync(Task.Utf8, httpContext.RequestAborted);
    }
}
