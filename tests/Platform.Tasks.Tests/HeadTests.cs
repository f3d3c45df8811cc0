using System.Net;
using Platform.Testing;

namespace Platform.Tasks.Tests;

/// <summary>HEAD on the task routes: GET's status and headers (the ETag a client would write against) and the same isolation.</summary>
[Collection(TasksTierCollection.Name)]
public sealed class HeadTests(TasksTierFixture fixture) : IAsyncLifetime
{
    private TasksHost host = null!;

    public async Task InitializeAsync() => host = await TasksHost.StartAsync(fixture, "tasks_head");

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Head_of_a_task_answers_gets_status_and_etag()
    {
        var alice = host.NewUser(fixture);
        var task = await alice.CreateOkAsync("headed");

        var answers = await HeadAndGet.SendAsync(alice.Http, $"/api/tasks/{task.Id}", alice.AccessToken, "ETag", "Cache-Control");

        Assert.Equal(HttpStatusCode.OK, answers.Status);
        Assert.Empty(answers.Differences);
        Assert.NotEmpty(answers.GetBody);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?limit=1")]
    [InlineData("?limit=0")]
    [InlineData("?status=nonsense")]
    public async Task Head_of_the_list_answers_as_get_does_valid_or_not(string query)
    {
        var alice = host.NewUser(fixture);
        await alice.CreateOkAsync("one");

        var answers = await HeadAndGet.SendAsync(alice.Http, "/api/tasks" + query, alice.AccessToken, "Cache-Control");

        Assert.Equal(query is "" or "?limit=1" ? HttpStatusCode.OK : HttpStatusCode.BadRequest, answers.Status);
        Assert.Empty(answers.Differences);
    }

    [Fact]
    public async Task Head_of_another_users_task_is_404_as_get_is()
    {
        var alice = host.NewUser(fixture);
        var bob = host.NewUser(fixture);
        var task = await alice.CreateOkAsync("Alice's");

        var answers = await HeadAndGet.SendAsync(bob.Http, $"/api/tasks/{task.Id}", bob.AccessToken, "ETag");

        Assert.Equal(HttpStatusCode.NotFound, answers.Status);
        Assert.Empty(answers.Differences);
    }

    [Fact]
    public void Every_get_route_answers_head_through_one_endpoint()
    {
        Assert.Equal(["/api/tasks", "/api/tasks/{id}"], ApiDocumentCoverage.ImplicitHeads(host.Services).Where(path => path.StartsWith("/api/", StringComparison.Ordinal)));
        Assert.Empty(ApiDocumentCoverage.RoutesWithTwoHeads(host.Services));
    }

    [Fact]
    public async Task Head_without_a_token_is_401_as_get_is()
    {
        var alice = host.NewUser(fixture);

        var answers = await HeadAndGet.SendAsync(alice.Http, "/api/tasks", null, "WWW-Authenticate");

        Assert.Equal(HttpStatusCode.Unauthorized, answers.Status);
        Assert.Empty(answers.Differences);
    }
}
