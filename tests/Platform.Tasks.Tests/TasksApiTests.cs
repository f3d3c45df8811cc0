using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Hosting.Problems;
using Platform.Testing;

namespace Platform.Tasks.Tests;

[Collection(TasksTierCollection.Name)]
public sealed class TasksApiTests(TasksTierFixture fixture) : IAsyncLifetime
{
    private TasksHost host = null!;
    private TasksClient user = null!;

    public async Task InitializeAsync()
    {
        host = await TasksHost.StartAsync(fixture, "tasks_api");
        user = host.NewUser(fixture);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Creating_a_task_answers_201_with_its_location_etag_and_defaults()
    {
        using var response = await user.CreateAsync(new { title = "  Write the report  ", dueAt = "2026-12-01T17:00:00+01:00" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var task = (await response.Content.ReadFromJsonAsync<TaskView>(JsonSerializerOptions.Web))!;
        Assert.Equal($"/api/tasks/{task.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        Assert.False(response.Headers.ETag!.IsWeak);
        Assert.Equal(7, task.Id.Version);
        Assert.Equal(("Write the report", "", "todo", 1), (task.Title, task.Description, task.Status, task.Version));
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T16:00:00Z", System.Globalization.CultureInfo.InvariantCulture), task.DueAt);
        Assert.Equal(task.CreatedAt, task.UpdatedAt);
    }

    [Fact]
    public async Task Getting_a_task_answers_it_with_a_strong_etag_of_its_version()
    {
        var created = await user.CreateOkAsync("Read");

        using var response = await user.SendAsync(HttpMethod.Get, $"/api/tasks/{created.Id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        Assert.Equal(created, await response.Content.ReadFromJsonAsync<TaskView>(JsonSerializerOptions.Web));
    }

    [Fact]
    public async Task A_cached_read_answers_the_same_bytes_and_headers_as_the_read_that_filled_the_cache()
    {
        var created = await user.CreateOkAsync("Cached");

        using var first = await user.SendAsync(HttpMethod.Get, $"/api/tasks/{created.Id}");
        var firstBody = await first.Content.ReadAsByteArrayAsync();
        byte[] secondBody = [];
        await Poll.UntilAsync(async () =>
        {
            using var second = await user.SendAsync(HttpMethod.Get, $"/api/tasks/{created.Id}");
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Equal(first.Headers.ETag, second.Headers.ETag);
            Assert.Equal(first.Content.Headers.ContentType, second.Content.Headers.ContentType);
            Assert.Equal(first.Content.Headers.ContentLength, second.Content.Headers.ContentLength);
            secondBody = await second.Content.ReadAsByteArrayAsync();
            return await CacheHitsAsync();
        }, hits => hits > 0, TimeSpan.FromSeconds(10), "a read answered from the cache");

        Assert.Equal("application/json; charset=utf-8", first.Content.Headers.ContentType?.ToString());
        Assert.Equal(firstBody, secondBody);
        Assert.Equal(created, JsonSerializer.Deserialize<TaskView>(secondBody, JsonSerializerOptions.Web));
    }

    private async Task<double> CacheHitsAsync()
    {
        using var metrics = new HttpClient { BaseAddress = host.Address };
        return (await metrics.GetStringAsync("/metrics")).Split('\n')
            .Where(line => line.StartsWith("cache_requests_total{", StringComparison.Ordinal) && line.Contains("result=\"hit\"", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Put_replaces_every_field_and_bumps_the_version()
    {
        var created = await user.CreateAsync(new { title = "Old", description = "old words", dueAt = "2026-01-01T00:00:00Z" });
        var task = (await created.Content.ReadFromJsonAsync<TaskView>(JsonSerializerOptions.Web))!;

        using var response = await user.SendAsync(HttpMethod.Put, $"/api/tasks/{task.Id}", TasksClient.Json(new { title = "New", status = "done" }), ifMatch: "\"1\"");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"2\"", response.Headers.ETag?.Tag);
        var replaced = await user.GetOkAsync(task.Id);
        Assert.Equal(("New", "", "done", (DateTimeOffset?)null, 2), (replaced.Title, replaced.Description, replaced.Status, replaced.DueAt, replaced.Version));
        Assert.Equal(task.CreatedAt, replaced.CreatedAt);
        Assert.True(replaced.UpdatedAt >= task.UpdatedAt);
    }

    [Theory]
    [InlineData("application/merge-patch+json")]
    [InlineData("application/json")]
    public async Task Patch_merges_absent_fields_stay_and_null_removes(string contentType)
    {
        var created = await user.CreateAsync(new { title = "Keep", description = "remove me", dueAt = "2026-01-01T00:00:00Z" });
        var task = (await created.Content.ReadFromJsonAsync<TaskView>(JsonSerializerOptions.Web))!;

        using var response = await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{task.Id}", """{"status":"in_progress","description":null,"dueAt":null}""", contentType);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var patched = await user.GetOkAsync(task.Id);
        Assert.Equal(("Keep", "", "in_progress", (DateTimeOffset?)null, 2), (patched.Title, patched.Description, patched.Status, patched.DueAt, patched.Version));
    }

    [Fact]
    public async Task Delete_answers_204_then_the_task_is_gone()
    {
        var task = await user.CreateOkAsync("Short-lived");

        using var deleted = await user.SendAsync(HttpMethod.Delete, $"/api/tasks/{task.Id}");
        using var again = await user.SendAsync(HttpMethod.Delete, $"/api/tasks/{task.Id}");
        using var get = await user.SendAsync(HttpMethod.Get, $"/api/tasks/{task.Id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await TasksClient.ProblemAsync(again, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        await TasksClient.ProblemAsync(get, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task A_stale_if_match_is_412_and_changes_nothing(string method)
    {
        var task = await user.CreateOkAsync("Contended");
        using (var first = await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{task.Id}", """{"title":"Changed by someone else"}""", ifMatch: "\"1\""))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using var stale = await user.SendAsync(new HttpMethod(method), $"/api/tasks/{task.Id}", method == "DELETE" ? null : """{"title":"Mine"}""", ifMatch: "\"1\"");

        await TasksClient.ProblemAsync(stale, HttpStatusCode.PreconditionFailed, ProblemTypes.PreconditionFailed);
        var current = await user.GetOkAsync(task.Id);
        Assert.Equal(("Changed by someone else", 2), (current.Title, current.Version));
    }

    [Theory]
    [InlineData("\"2\"", HttpStatusCode.OK)]
    [InlineData("*", HttpStatusCode.OK)]
    [InlineData("\"7\", \"2\"", HttpStatusCode.OK)]
    [InlineData("W/\"2\"", HttpStatusCode.PreconditionFailed)]
    [InlineData("2", HttpStatusCode.PreconditionFailed)]
    [InlineData("", HttpStatusCode.PreconditionFailed)]
    public async Task If_match_compares_strongly_and_accepts_a_list_or_a_star(string ifMatch, HttpStatusCode expected)
    {
        var task = await user.CreateOkAsync("Versioned");
        (await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{task.Id}", """{"status":"done"}""")).Dispose();

        using var response = await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{task.Id}", """{"title":"Again"}""", ifMatch: ifMatch);

        Assert.Equal(expected, response.StatusCode);
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"description":"no title"}""", "title" },
        { """{"title":""}""", "title" },
        { """{"title":"   "}""", "title" },
        { "{\"title\":\"" + new string('x', 201) + "\"}", "title" },
        { """{"title":42}""", "title" },
        { """{"title":null}""", "title" },
        { """{"title":"ok","status":"started"}""", "status" },
        { """{"title":"ok","status":1}""", "status" },
        { "{\"title\":\"ok\",\"description\":\"" + new string('x', 10_001) + "\"}", "description" },
        { """{"title":"ok","description":[]}""", "description" },
        { """{"title":"ok","dueAt":"tomorrow"}""", "dueAt" },
        { """{"title":"ok","dueAt":"2026-12-01"}""", "dueAt" },
        { """{"title":"ok","dueAt":"2026-12-01T10:00:00"}""", "dueAt" },
        { """{"title":"ok","dueAt":20261201}""", "dueAt" },
        { """{"title":"ok","priority":"high"}""", "priority" },
        { """{"title":"ok","id":"0198c3a0-0000-7000-8000-000000000000"}""", "id" },
        { """["title"]""", "" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Every_invalid_field_is_a_400_validation_problem_naming_it(string body, string field)
    {
        var existing = await user.CreateOkAsync("Target");

        using var post = await user.SendAsync(HttpMethod.Post, "/api/tasks", body);
        using var put = await user.SendAsync(HttpMethod.Put, $"/api/tasks/{existing.Id}", body);

        foreach (var response in new[] { post, put })
        {
            var problem = await TasksClient.ProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors should name '{field}': {problem}");
        }
        Assert.Equal(1, (await user.GetOkAsync(existing.Id)).Version);
    }

    [Theory]
    [InlineData("""{"title":null}""", "title")]
    [InlineData("""{"status":null}""", "status")]
    [InlineData("""{"title":"x","colour":"red"}""", "colour")]
    [InlineData("""{"dueAt":"soon"}""", "dueAt")]
    [InlineData("\"just a string\"", "")]
    public async Task An_invalid_merge_patch_is_a_400_validation_problem(string body, string field)
    {
        var existing = await user.CreateOkAsync("Target");

        using var response = await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{existing.Id}", body, "application/merge-patch+json");

        var problem = await TasksClient.ProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors should name '{field}': {problem}");
    }

    [Theory]
    [InlineData("{\"title\":")]
    [InlineData("not json")]
    [InlineData("")]
    public async Task Malformed_json_is_400_invalid_json_on_every_writing_route(string body)
    {
        var existing = await user.CreateOkAsync("Target");

        using var post = await user.SendAsync(HttpMethod.Post, "/api/tasks", body);
        using var put = await user.SendAsync(HttpMethod.Put, $"/api/tasks/{existing.Id}", body);
        using var patch = await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{existing.Id}", body, "application/merge-patch+json");

        foreach (var response in new[] { post, put, patch })
        {
            await TasksClient.ProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.InvalidJson);
        }
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415()
    {
        using var response = await user.SendAsync(HttpMethod.Post, "/api/tasks", "title=x", "application/x-www-form-urlencoded");

        await TasksClient.ProblemAsync(response, HttpStatusCode.UnsupportedMediaType, ProblemTypes.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task Malformed_or_unknown_ids_are_404_never_500(string method)
    {
        foreach (var id in new[] { "not-a-uuid", "123", "%20", Guid.NewGuid().ToString(), "00000000-0000-0000-0000-000000000000" })
        {
            using var response = await user.SendAsync(new HttpMethod(method), $"/api/tasks/{id}", method is "PUT" or "PATCH" ? """{"title":"x"}""" : null);
            await TasksClient.ProblemAsync(response, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        }
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=201", "limit")]
    [InlineData("?limit=-1", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?limit=1.5", "limit")]
    [InlineData("?status=open", "status")]
    [InlineData("?cursor=garbage", "cursor")]
    [InlineData("?cursor=AgAAAAAAAAAAAAAAAAAAAAA", "cursor")]
    [InlineData("?cursor=", "cursor")]
    public async Task Bad_list_parameters_are_400_validation_problems(string query, string field)
    {
        using var response = await user.SendAsync(HttpMethod.Get, "/api/tasks" + query);

        var problem = await TasksClient.ProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors should name '{field}': {problem}");
    }

    [Fact]
    public async Task Every_route_needs_a_bearer_token()
    {
        using var anonymous = new HttpClient { BaseAddress = host.Address };
        var id = Guid.NewGuid();
        foreach (var (method, path) in new[] { ("GET", "/api/tasks"), ("POST", "/api/tasks"), ("GET", $"/api/tasks/{id}"), ("PUT", $"/api/tasks/{id}"), ("PATCH", $"/api/tasks/{id}"), ("DELETE", $"/api/tasks/{id}") })
        {
            using var response = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task The_list_filters_by_status_and_shows_the_newest_first()
    {
        var me = host.NewUser(fixture);
        var first = await me.CreateOkAsync("first");
        var second = await me.CreateOkAsync("second", "done");
        var third = await me.CreateOkAsync("third");

        var all = await me.ListOkAsync();
        var todo = await me.ListOkAsync("?status=todo");

        Assert.Equal([third.Id, second.Id, first.Id], all.Items.Select(t => t.Id));
        Assert.Null(all.NextCursor);
        Assert.Equal([third.Id, first.Id], todo.Items.Select(t => t.Id));
    }

    [Fact]
    public async Task Metrics_export_reads_by_target_replica_lag_and_cache_results()
    {
        var task = await user.CreateOkAsync("measured");
        await user.GetOkAsync(task.Id);

        using var client = new HttpClient { BaseAddress = host.Address };
        var metrics = await Platform.Testing.Poll.UntilAsync(() => client.GetStringAsync("/metrics"),
            text => text.Contains("db_replica_lag_seconds", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the replica lag gauge");

        Assert.Contains("db_reads_total{target=\"primary\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("cache_requests_total{result=", metrics, StringComparison.Ordinal);
    }
}
