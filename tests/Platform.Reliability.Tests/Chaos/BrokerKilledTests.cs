using System.Net;
using System.Net.Http.Json;
using Platform.Contracts.Events;
using Platform.Testing;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// SIGKILL of RabbitMQ while the outboxes publish: the unconfirmed publishes stay in the outbox and go again once it is
/// back, so no event is lost; a publish confirmed but not yet deleted from the outbox goes twice, and the consumers'
/// <c>processed_events</c> make sure it is applied once. Applied twice would show: every <c>user.deleted</c> the
/// tasks service applies bumps the user's cache generation, so each deleted user must end at exactly 2 (1 for their task, 1 for the purge).
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class BrokerKilledTests(ReliabilityPlatform platform)
{
    private const int DeletedUsers = 30;
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DeletionPace = TimeSpan.FromMilliseconds(600);

    [Fact]
    [Trait("Category", "Drill")]
    public async Task RabbitMQ_killed_mid_publish_loses_no_event_and_applies_none_twice()
    {
        var writers = new List<PlatformUser>();
        for (var i = 0; i < 4; i++)
        {
            writers.Add(await platform.SignUpAsync("broker-kill"));
        }
        var leaving = new List<PlatformUser>();
        for (var i = 0; i < DeletedUsers; i++)
        {
            var user = await platform.SignUpAsync("broker-leaving");
            await CreateTaskAsync(user);
            leaving.Add(user);
        }
        await using var tap = await EventTap.StartAsync(platform.Tier.RabbitMqUri, EventTypes.TaskCreated, EventTypes.UserDeleted);
        var load = new AcknowledgedWrites(platform, writers);
        TimeSpan restoredAt, recoveredAt;
        int deletedBeforeKill;
        var deletions = Task.CompletedTask;
        try
        {
            load.Start(writers: 4); // fewer than the other drills: a broker booting after SIGKILL shares the machine with them
            await load.HealthyAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
            deletions = DeleteAccountsAsync(leaving); // before, during and after the kill
            // Mid-publish: events are flowing to the broker right now.
            var seen = tap.Unique;
            await Poll.UntilAsync(() => Task.FromResult(tap.Unique > seen + 20 && tap.Count(EventTypes.UserDeleted) > 0), TimeSpan.FromSeconds(30), "events on their way");
            deletedBeforeKill = tap.Count(EventTypes.UserDeleted);
            await Sigkill.ComponentAsync(platform.Tier, DataTier.RabbitMq, "beam.smp");
            await Task.Delay(Hold); // how long the broker stays dead is the experiment's choice
            restoredAt = load.Now;
            // make run after a crash: the broker repairs its stores before it listens, which on a busy machine can take longer than a clean start's minute.
            var up = await ShellCommand.RunAsync("bash", [RepoPaths.Script("platform.sh"), "up"],
                new Dictionary<string, string>(platform.Environment) { ["PLATFORM_RABBITMQ_TIMEOUT"] = "180" }, TimeSpan.FromMinutes(5));
            Assert.True(up.ExitCode == 0, $"platform.sh up could not restart RabbitMQ after the SIGKILL:\n{up.Output}");
            recoveredAt = await load.HealthyAsync(restoredAt, TimeSpan.FromSeconds(90));
        }
        finally
        {
            await load.DisposeAsync();
            await deletions;
        }

        var ids = load.Acknowledged.Select(write => write.Id).ToArray();
        var leavers = leaving.Select(user => user.Id).ToArray();
        int Published() => tap.Subjects(EventTypes.TaskCreated).Intersect(ids).Count();
        int Departed() => tap.Subjects(EventTypes.UserDeleted).Intersect(leavers).Count();
        var drained = await WithinAsync(() => Published() == ids.Length && Departed() == DeletedUsers, TimeSpan.FromSeconds(120));
        var appliedOnce = 0L;
        var appliedTwice = 0L;
        await WithinAsync(async () =>
        {
            appliedOnce = await platform.Databases.CountAsync("tasks", "SELECT count(*) FROM cache_generations WHERE user_id = ANY($1) AND generation = 2", leavers);
            appliedTwice = await platform.Databases.CountAsync("tasks", "SELECT count(*) FROM cache_generations WHERE user_id = ANY($1) AND generation > 2", leavers);
            return appliedOnce + appliedTwice == DeletedUsers;
        }, TimeSpan.FromSeconds(60));
        var tasksLeft = await platform.Databases.CountAsync("tasks", "SELECT count(*) FROM tasks WHERE user_id = ANY($1)", leavers);
        var lost = ids.Length - Published() + DeletedUsers - Departed();
        var held = lost == 0 && appliedOnce == DeletedUsers && appliedTwice == 0 && tasksLeft == 0;

        KillDrillReport.Write("rabbitmq-killed", "RabbitMQ SIGKILLed mid-publish",
            "no event lost; none applied twice (processed_events)", $"{ids.Length} task.created + {DeletedUsers} user.deleted", lost, $"{appliedTwice} applied twice ({tap.Redelivered} delivered twice)",
            recoveredAt - restoredAt,
            $"user.deleted delivered before the kill: {deletedBeforeKill}; all delivered: {drained}; deliveries to the test queue of an id seen before: {tap.Redelivered}; " +
            $"user.deleted applied once by tasks: {appliedOnce} of {DeletedUsers}; tasks of deleted users left: {tasksLeft}; " +
            $"write answers: {KillDrillReport.Statuses(load.Attempts.Select(a => a.Status))}", held,
            "Four writers create tasks and 30 accounts are deleted, one every 0.6 s, before, during and after the kill; beam.smp gets SIGKILL " +
            "once events are seen flowing, stays dead for 10 s, then `scripts/platform.sh up` starts it. *Recovery* is from that restart to two " +
            "seconds of acknowledged writes (writes never needed the broker). *Applied twice*: deleted users whose cache generation moved more than once (the tasks service's user.deleted bumps it once).");
        Assert.Equal(0, lost);
        Assert.Equal(0, appliedTwice);
        Assert.Equal(DeletedUsers, appliedOnce);
        Assert.Equal(0, tasksLeft);
    }

    private async Task CreateTaskAsync(PlatformUser user)
    {
        using var request = platform.Request(HttpMethod.Post, "/api/tasks", user.ClientAddress, user.AccessToken);
        request.Content = JsonContent.Create(new { title = "goes with its owner" });
        using var answer = await platform.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
    }

    /// <summary>Deletes each account in turn; a deletion refused while something is down is tried again.</summary>
    private async Task DeleteAccountsAsync(IEnumerable<PlatformUser> users)
    {
        foreach (var user in users)
        {
            await Poll.UntilAsync(async () =>
            {
                // A token of its own: the drill outlives the one-minute access tokens of the sign-up.
                var current = await platform.LogInAsync(user.Email);
                using var delete = platform.Request(HttpMethod.Delete, "/api/auth/account", current.ClientAddress, current.AccessToken);
                using var deleted = await platform.Client.SendAsync(delete);
                return deleted.StatusCode == HttpStatusCode.NoContent;
            }, TimeSpan.FromSeconds(60), $"the deletion of {user.Email}");
            await Task.Delay(DeletionPace);
        }
    }

    /// <summary>Waits for a condition; false, rather than an exception, when it never held, so the report is still written.</summary>
    private static async Task<bool> WithinAsync(Func<bool> condition, TimeSpan timeout) => await WithinAsync(() => Task.FromResult(condition()), timeout);

    private static async Task<bool> WithinAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        try
        {
            await Poll.UntilAsync(condition, timeout, "the drill's condition");
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
