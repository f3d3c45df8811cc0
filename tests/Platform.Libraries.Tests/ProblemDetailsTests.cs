using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Npgsql;
using Platform.Data;
using Platform.Hosting.Problems;
using Platform.Testing;

namespace Platform.Libraries.Tests;

public sealed class ProblemDetailsTests : IAsyncLifetime
{
    private const string Secret = "connection string Password=hunter2";
    private TestApp app = null!;

    private sealed record Greeting(string Name, int Count);

    public async Task InitializeAsync() => app = await TestApp.StartAsync(builder => builder.Services.AddPostgresOutages(), web =>
    {
        web.MapPost("/echo", (Greeting greeting) => TypedResults.Ok(greeting));
        web.MapGet("/boom", string () => throw new InvalidOperationException(Secret));
        // What Npgsql throws when the primary's disk is full (SQLSTATE 53100), as the disk-full drill met it.
        web.MapPost("/disk-full", string () => throw new PostgresException(
            "could not extend file \"base/16453/16484\": No space left on device", "ERROR", "ERROR", PostgresErrorCodes.DiskFull));
        // What Npgsql throws when the primary does not answer, wrapped as EF Core and other callers wrap it.
        web.MapGet("/primary-gone", string () => throw new InvalidOperationException("query failed",
            new NpgsqlException("Failed to connect to 10.0.0.7:5432", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused))));
    });

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Fact]
    public async Task Malformed_json_is_a_400_invalid_json_problem()
    {
        using var response = await app.Client.PostAsync("/echo", new StringContent("{\"name\": \"x\",", Encoding.UTF8, "application/json"));

        var problem = await AssertProblem(response, HttpStatusCode.BadRequest, ProblemTypes.InvalidJson);
        Assert.Contains("line 1", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_is_a_400_naming_where_it_is()
    {
        using var response = await app.Client.PostAsync("/echo", new StringContent("{\"name\": \"x\", \"count\": \"many\"}", Encoding.UTF8, "application/json"));

        var problem = await AssertProblem(response, HttpStatusCode.BadRequest, ProblemTypes.InvalidJson);
        Assert.Contains("$.count", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("System.", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Valid_json_still_works()
    {
        using var response = await app.Client.PostAsJsonAsync("/echo", new { name = "x", count = 2 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task An_unhandled_exception_is_a_500_problem_without_internals()
    {
        using var response = await app.Client.GetAsync("/boom");

        var problem = await AssertProblem(response, HttpStatusCode.InternalServerError, ProblemTypes.InternalError);
        var body = problem.GetRawText();
        Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task A_write_refused_by_a_full_database_disk_is_a_503_with_retry_after_not_a_500()
    {
        using var response = await app.Client.PostAsync("/disk-full", content: null);

        var problem = await AssertProblem(response, HttpStatusCode.ServiceUnavailable, ProblemTypes.ServiceUnavailable);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("The service's database cannot take writes right now.", problem.GetProperty("title").GetString());
        Assert.Equal("Its storage is full. Try again in 2 seconds.", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("base/16453", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hosting_alone_knows_no_database_so_an_outage_nobody_classifies_is_a_500()
    {
        // The 503s above come from Platform.Data's classifier (AddPlatformPostgres registers it), not from hosting.
        await using var bare = await TestApp.StartAsync(map: web => web.MapPost("/disk-full", string () => throw new PostgresException(
            "could not extend file", "ERROR", "ERROR", PostgresErrorCodes.DiskFull)));

        using var response = await bare.Client.PostAsync("/disk-full", content: null);

        await AssertProblem(response, HttpStatusCode.InternalServerError, ProblemTypes.InternalError);
    }

    [Fact]
    public async Task An_unreachable_database_anywhere_in_the_exception_chain_is_a_503_with_retry_after()
    {
        using var response = await app.Client.GetAsync("/primary-gone");

        var problem = await AssertProblem(response, HttpStatusCode.ServiceUnavailable, ProblemTypes.ServiceUnavailable);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("The service cannot reach its database right now.", problem.GetProperty("title").GetString());
        Assert.DoesNotContain("10.0.0.7", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_route_is_a_404_problem()
    {
        using var response = await app.Client.GetAsync("/no/such/thing");

        await AssertProblem(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_problem()
    {
        var huge = "{\"name\": \"" + new string('x', 2 * 1024 * 1024) + "\", \"count\": 1}";
        using var response = await app.Client.PostAsync("/echo", new StringContent(huge, Encoding.UTF8, "application/json"));

        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, ProblemTypes.PayloadTooLarge);
    }

    [Fact]
    public async Task Responses_carry_no_server_header()
    {
        using var response = await app.Client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task Too_many_request_headers_are_refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        for (var i = 0; i < 100; i++)
        {
            request.Headers.Add($"X-Filler-{i}", "x");
        }
        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData("cancelled")]
    [InlineData("wrapped")]
    public async Task A_request_whose_client_left_is_counted_as_499_not_as_a_server_error(string how)
    {
        // What a handler meets when its caller hangs up: the token it passed down is cancelled, or a driver turns the
        // cancellation into an error of its own. Either way nobody is there to answer, and the 5xx burn-rate alerts
        // must not count it.
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var left = await TestApp.StartAsync(map: web => web.MapGet("/slow", async Task<string> (HttpContext context) =>
        {
            arrived.TrySetResult();
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
            catch (OperationCanceledException cancelled) when (how == "wrapped")
            {
                throw new InvalidOperationException("the query was cancelled", cancelled);
            }
            return "too late";
        }));

        using (var hangUp = new CancellationTokenSource())
        {
            var request = left.Client.GetAsync(new Uri("/slow", UriKind.Relative), hangUp.Token);
            await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await hangUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        }

        string[] series = [];
        await Poll.UntilAsync(async () =>
        {
            series = (await left.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n')
                .Where(line => line.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
                    && line.Contains("http_route=\"/slow\"", StringComparison.Ordinal))
                .ToArray();
            return series.Length > 0;
        }, TimeSpan.FromSeconds(10), "the abandoned request to be counted");
        Assert.Single(series);
        Assert.Contains("http_response_status_code=\"499\"", series[0], StringComparison.Ordinal);
    }

    private static async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(type, problem.GetProperty("type").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        return problem;
    }
}
