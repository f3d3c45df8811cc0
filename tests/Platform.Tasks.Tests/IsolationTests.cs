using System.Net;
using Platform.Hosting.Problems;

namespace Platform.Tasks.Tests;

[Collection(TasksTierCollection.Name)]
public sealed class IsolationTests(TasksTierFixture fixture) : IAsyncLifetime
{
    private TasksHost host = null!;

    public async Task InitializeAsync() => host = await TasksHost.StartAsync(fixture, "tasks_isolation");

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Theory]
    [InlineData("GET", null)]
    [InlineData("PUT", """{"title":"taken over"}""")]
    [InlineData("PATCH", """{"status":"done"}""")]
    [InlineData("DELETE", null)]
    public async Task Another_users_task_is_404_and_stays_untouched(string method, string? body)
    {
        var alice = host.NewUser(fixture);
        var bob = host.NewUser(fixture);
        var task = await alice.CreateOkAsync("Alice's");

        using var plain = await bob.SendAsync(new HttpMethod(method), $"/api/tasks/{task.Id}", body);
        using var withIfMatch = await bob.SendAsync(new HttpMethod(method), $"/api/tasks/{task.Id}", body, ifMatch: "*");

        await TasksClient.ProblemAsync(plain, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        await TasksClient.ProblemAsync(withIfMatch, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        Assert.Equal(task, await alice.GetOkAsync(task.Id));
    }

    [Fact]
    public async Task A_users_list_never_shows_anyone_elses_tasks()
    {
        var alice = host.NewUser(fixture);
        var bob = host.NewUser(fixture);
        var alices = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            alices.Add((await alice.CreateOkAsync($"alice {i}")).Id);
            await bob.CreateOkAsync($"bob {i}", i % 2 == 0 ? "done" : null);
        }

        var bobSees = await bob.ListAllAsync(limit: 2);
        var bobSeesDone = await bob.ListAllAsync(limit: 2, status: "done");
        var aliceSees = await alice.ListAllAsync(limit: 200);

        Assert.Equal(5, bobSees.Count);
        Assert.Equal(3, bobSeesDone.Count);
        Assert.Empty(bobSees.Select(t => t.Id).Intersect(alices));
        Assert.Equal(alices.AsEnumerable().Reverse(), aliceSees.Select(t => t.Id));
    }
}
