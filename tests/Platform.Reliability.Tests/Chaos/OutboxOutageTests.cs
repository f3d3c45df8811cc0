using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Platform.Contracts.Events;
using Platform.Messaging;
using Platform.Testing;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// The outbox's promise at volume: ten thousand events written while the broker is away for thirty seconds all
/// reach it once it is back, and a consumer applies each of them once.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class OutboxOutageTests(ReliabilityPlatform platform)
{
    private const int Events = 10_000;
    private const int DeletedUsers = 50;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    [Fact]
    [Trait("Category", "Drill")]
    public async Task Ten_thousand_events_written_across_a_30_s_broker_outage_are_all_delivered_and_applied_once()
    {
        var writer = await platform.SignUpAsync("outbox");
        var leaving = new List<PlatformUser>();
        for (var i = 0; i < DeletedUsers; i++)
        {
            var user = await platform.SignUpAsync("leaving");
            Assert.Equal(HttpStatusCode.Created, await CreateTaskAsync(user));
            leaving.Add(user);
        }
        await using var tap = await EventTap.StartAsync(platform.Tier.RabbitMqUri, EventTypes.TaskCreated, EventTypes.UserDeleted);

        await platform.Tier.DownAsync(DataTier.RabbitMq);
        var outage = Stopwatch.StartNew();
        var statuses = new ConcurrentBag<HttpStatusCode>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Events), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
            statuses.Add(await CreateTaskAsync(writer)));
        var written = outage.Elapsed;
        foreach (var user in leaving)
        {
            using var delete = platform.Request(HttpMethod.Delete, "/api/auth/account", user.ClientAddress, user.AccessToken);
            using var deleted = await platform.Client.SendAsync(delete);
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        var pendingAtPeak = await platform.Databases.OutboxPendingAsync("tasks") + await platform.Databases.OutboxPendingAsync("auth");
        if (outage.Elapsed < Outage)
        {
            await Task.Delay(Outage - outage.Elapsed); // the outage lasts as long as the experiment says
        }
        var heldFor = outage.Elapsed;
        (await platform.PlatformAsync("up")).EnsureSuccess("platform.sh up");
        var restored = Stopwatch.StartNew();
        var created = statuses.Count(status => status == HttpStatusCode.Created);
        await Poll.UntilAsync(() => Task.FromResult(tap.Count(EventTypes.TaskCreated) >= created && tap.Count(EventTypes.UserDeleted) >= DeletedUsers),
            TimeSpan.FromMinutes(3), $"{created} task.created and {DeletedUsers} user.deleted events");
        var deliveredAfter = restored.Elapsed;
        var deletions = tap.Ids(EventTypes.UserDeleted);
        var applied = await Poll.UntilAsync(() => platform.Databases.CountAsync("tasks",
                "SELECT count(*) FROM processed_events WHERE consumer = 'tasks.events' AND event_id = ANY($1)", deletions),
            count => count >= DeletedUsers, TimeSpan.FromMinutes(1), "the tasks service to apply every user.deleted");
        var leftOver = await platform.Databases.CountAsync("tasks", "SELECT count(*) FROM tasks WHERE user_id = ANY($1)", leaving.Select(u => u.Id).ToArray());
        var delivered = tap.Count(EventTypes.TaskCreated);

        Report.Write("chaos", "outbox", $"""
            ### The outbox across a {Report.Seconds(heldFor)} broker outage

            {Report.Table(["events written during the outage", "written in", "outbox rows at the peak", "delivered", "lost", "deliveries of an id seen before",
                "all delivered after the broker returned", "user.deleted applied by tasks (of 50)", "tasks of deleted users left", "verdict"],
            [[
                $"{created} task.created + {DeletedUsers} user.deleted", Report.Seconds(written), pendingAtPeak, $"{delivered} + {tap.Count(EventTypes.UserDeleted)}",
                created - delivered, tap.Redelivered, Report.Seconds(deliveredAfter), applied, leftOver,
                created == Events && delivered == created && applied == DeletedUsers && leftOver == 0 ? "as expected" : "**NOT as expected**",
            ]])}
            Applied twice: the consumer records each event id in `processed_events` (primary key consumer + event id) in the transaction
            that applies it, so a redelivery is skipped; the tap counts every delivery, so a duplicate publish would show above.
            """);
        Assert.Equal(Events, created);
        Assert.Equal(created, delivered);
        Assert.Equal(DeletedUsers, applied);
        Assert.Equal(0, leftOver);
    }

    private async Task<HttpStatusCode> CreateTaskAsync(PlatformUser user)
    {
        using var request = platform.Request(HttpMethod.Post, "/api/tasks", user.ClientAddress, user.AccessToken);
        request.Content = JsonContent.Create(new { title = "written while the broker is away" });
        using var answer = await platform.Client.SendAsync(request);
        return answer.StatusCode;
    }
}
