using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Hosting.Http;
using Platform.Testing;

namespace Platform.Gateway.Tests;

/// <summary>
/// HEAD through the edge: forwarded to the service, which answers it as its GET (the platform's convention), and
/// answered by the gateway's own GET routes the same way — the event stream with its headers, without opening a stream.
/// </summary>
[Collection(GatewayPlatformCollection.Name)]
public sealed class HeadTests(GatewayPlatform platform)
{
    [Theory]
    [InlineData("/.well-known/jwks.json", "Cache-Control")]
    [InlineData("/api/auth/config", "Cache-Control")]
    [InlineData("/api/health", "Cache-Control")]
    [InlineData("/api/openapi.json", "Cache-Control")]
    [InlineData("/api/docs/", "Cache-Control")]
    public async Task Public_gets_of_the_edge_and_the_services_answer_head_alike(string path, string header)
    {
        using var http = Client(platform.NewClientAddress());

        var answers = await HeadAndGet.SendAsync(http, path, null, header, "X-Content-Type-Options");

        Assert.Equal(HttpStatusCode.OK, answers.Status);
        Assert.Empty(answers.Differences);
    }

    [Fact]
    public async Task A_head_of_a_task_passes_the_gateway_with_its_etag_and_another_users_is_404()
    {
        var alice = await platform.SignUpAsync();
        var bob = await platform.SignUpAsync();
        using var http = Client(alice.ClientAddress);
        using var post = platform.Request(HttpMethod.Post, "/api/tasks", alice.ClientAddress, alice.AccessToken);
        post.Content = JsonContent.Create(new { title = "headed" });
        using var created = await http.SendAsync(post);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var own = await HeadAndGet.SendAsync(http, $"/api/tasks/{id}", alice.AccessToken, "ETag");
        var others = await HeadAndGet.SendAsync(http, $"/api/tasks/{id}", bob.AccessToken, "ETag");

        Assert.Equal(HttpStatusCode.OK, own.Status);
        Assert.Empty(own.Differences);
        Assert.Equal(HttpStatusCode.NotFound, others.Status);
        Assert.Empty(others.Differences);
    }

    /// <summary>
    /// More HEADs than a user may hold streams: had each opened one (its handler streaming on to a HEAD that wants no
    /// body), the ninth would be 429 and the user's real stream after them too.
    /// </summary>
    [Fact]
    public async Task A_head_of_the_event_stream_answers_its_headers_and_opens_no_stream()
    {
        var user = await platform.SignUpAsync();
        using var http = Client(user.ClientAddress);

        for (var i = 0; i < 10; i++)
        {
            using var head = await http.SendAsync(platform.Request(HttpMethod.Head, "/api/events", user.ClientAddress, user.AccessToken));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal("text/event-stream", head.Content.Headers.ContentType?.MediaType);
        }
        await using var stream = await EventStreamClient.OpenAsync(platform.Gateway, user.AccessToken, user.ClientAddress);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        using var anonymous = await http.SendAsync(platform.Request(HttpMethod.Head, "/api/events", user.ClientAddress));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task The_merged_document_says_once_that_gets_answer_head_and_lists_only_files_own_head()
    {
        using var http = Client(platform.NewClientAddress());

        var document = await Poll.UntilAsync(async () =>
            {
                using var answer = await http.GetAsync("/api/openapi.json");
                return answer.IsSuccessStatusCode ? JsonNode.Parse(await answer.Content.ReadAsStringAsync()) : null;
            },
            found => found?["paths"]?["/api/files/{id}/content"] is not null && found["paths"]?["/api/tasks"] is not null,
            TimeSpan.FromSeconds(30), "the merged document to hold tasks' and files' paths");

        Assert.EndsWith(HeadRequests.DocumentNote, document!["info"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        var heads = document["paths"]!.AsObject().Where(path => path.Value!.AsObject().ContainsKey("head")).Select(path => path.Key);
        Assert.Equal(["/api/files/{id}/content"], heads);
    }

    /// <summary>A route that names its methods and takes GET takes HEAD too: else a HEAD falls to the catch-all route, with its token requirement and rate limit.</summary>
    [Fact]
    public void Every_route_of_the_gateways_configuration_that_takes_get_takes_head()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "services", "Platform.Gateway", "appsettings.json")));

        var getOnly = settings.RootElement.GetProperty("ReverseProxy").GetProperty("Routes").EnumerateObject()
            .Where(route => route.Value.GetProperty("Match").TryGetProperty("Methods", out var methods)
                && methods.EnumerateArray().Any(m => m.GetString() == "GET") && !methods.EnumerateArray().Any(m => m.GetString() == "HEAD"))
            .Select(route => route.Name);

        Assert.Empty(getOnly);
    }

    private HttpClient Client(string clientAddress)
    {
        var http = new HttpClient { BaseAddress = platform.Gateway, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Forwarded-For", clientAddress);
        return http;
    }
}
