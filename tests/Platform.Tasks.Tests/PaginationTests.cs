namespace Platform.Tasks.Tests;

[Collection(TasksTierCollection.Name)]
public sealed class PaginationTests(TasksTierFixture fixture) : IAsyncLifetime
{
    private TasksHost host = null!;

    public async Task InitializeAsync() => host = await TasksHost.StartAsync(fixture, "tasks_pages");

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task The_default_page_is_50_and_a_limit_of_200_is_allowed()
    {
        var user = host.NewUser(fixture);
        for (var i = 0; i < 60; i++)
        {
            await user.CreateOkAsync($"task {i}");
        }

        var first = await user.ListOkAsync();
        var big = await user.ListOkAsync("?limit=200");

        Assert.Equal(50, first.Items.Count);
        Assert.NotNull(first.NextCursor);
        Assert.Equal(60, big.Items.Count);
        Assert.Null(big.NextCursor);
    }

    [Fact]
    public async Task Paging_while_tasks_are_inserted_concurrently_shows_every_earlier_task_exactly_once()
    {
        var user = host.NewUser(fixture);
        var existing = new List<Guid>();
        for (var i = 0; i < 45; i++)
        {
            existing.Add((await user.CreateOkAsync($"existing {i}")).Id);
        }
        using var stop = new CancellationTokenSource();
        var inserted = 0;
        var inserter = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await user.CreateOkAsync($"concurrent {inserted}");
                inserted++;
            }
        });

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await user.ListOkAsync("?limit=4" + (cursor is null ? "" : $"&cursor={cursor}"));
            seen.AddRange(page.Items.Select(t => t.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        await stop.CancelAsync();
        await inserter;

        Assert.True(inserted > 0, "tasks should have been inserted while paging");
        Assert.Equal(seen.Count, seen.Distinct().Count());
        var earlierSeen = seen.Where(existing.Contains).ToList();
        Assert.Equal(existing.AsEnumerable().Reverse(), earlierSeen);
    }
}
