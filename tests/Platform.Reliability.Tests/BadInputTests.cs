using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Reliability.Tests.Corpus;
using Platform.Testing;

namespace Platform.Reliability.Tests;

/// <summary>
/// More than five thousand generated hostile requests over every route, through the gateway: none may fail the
/// server, every error must be problem details, and nothing a rejected request carried may reach a database
/// or the event bus.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class BadInputTests(ReliabilityPlatform platform)
{
    private const int Seed = 20261126;

    [Fact]
    public async Task A_corpus_of_hostile_requests_gets_no_5xx_only_problem_details_and_writes_nothing_it_was_refused()
    {
        var user = await platform.SignUpAsync("corpus");
        var targets = await SeedAsync(user);
        await using var tap = await EventTap.StartAsync(platform.Tier.RabbitMqUri, "#");
        var since = DateTimeOffset.UtcNow;
        var before = await CountWritesAsync(targets, since);
        var corpus = BadInputCorpus.Generate(targets, Seed, minimum: 5_000);

        var outcomes = await new CorpusRunner(platform, user).RunAsync(corpus);

        await Poll.UntilAsync(async () => await platform.Databases.OutboxPendingAsync("auth") + await platform.Databases.OutboxPendingAsync("tasks")
            + await platform.Databases.OutboxPendingAsync("files") == 0, TimeSpan.FromSeconds(30), "every outbox to drain");
        var accepted = Accepted(outcomes);
        await Poll.UntilAsync(() => Task.FromResult(tap.Unique >= accepted.Events), TimeSpan.FromSeconds(30), $"{accepted.Events} events of accepted requests");
        var after = await CountWritesAsync(targets, since);
        WriteReport(outcomes);

        Assert.True(corpus.Count >= 5_000, $"only {corpus.Count} requests");
        var broken = outcomes.Where(outcome => outcome.Broken).ToList();
        Assert.True(broken.Count == 0, $"{broken.Count} broken answers:\n" + string.Join('\n', broken
            .GroupBy(o => (o.Request.Route, o.Request.Kind, o.Status)).Select(g => $"{g.Count()}× {g.First()}")));
        Assert.Equal(before with
        {
            Users = before.Users + accepted.Registrations,
            Sessions = before.Sessions + accepted.Logins,
            Tasks = before.Tasks + accepted.TasksCreated,
            TargetTaskVersion = before.TargetTaskVersion + accepted.TargetTaskUpdates,
            Files = before.Files + accepted.Uploads,
        }, after);
        Assert.Equal(0, after.OrphanChunks);
        Assert.Equal((accepted.TasksCreated, accepted.TargetTaskUpdates, accepted.Uploads, accepted.Registrations),
            (tap.Count("task.created"), tap.Count("task.updated"), tap.Count("file.uploaded"), tap.Count("user.registered")));
        Assert.Equal(accepted.Events, tap.Unique);
        Assert.Equal(0, await platform.Databases.CountAsync("files",
            "SELECT count(*) FROM files WHERE owner = $1 AND (name ~ '[/\\\\]' OR name ~ '[[:cntrl:]]' OR name ~ '[\u202A-\u202E\u2066-\u2069]')", user.Id));
    }

    private async Task<CorpusTargets> SeedAsync(PlatformUser user)
    {
        using var createTask = platform.Request(HttpMethod.Post, "/api/tasks", user.ClientAddress, user.AccessToken);
        createTask.Content = JsonContent.Create(new { title = "target of the corpus" });
        using var task = await platform.Client.SendAsync(createTask);
        task.EnsureSuccessStatusCode();
        using var upload = platform.Request(HttpMethod.Post, "/api/files?name=target.txt", user.ClientAddress, user.AccessToken);
        upload.Content = new ByteArrayContent("target of the corpus"u8.ToArray());
        using var file = await platform.Client.SendAsync(upload);
        file.EnsureSuccessStatusCode();
        return new CorpusTargets(await IdAsync(task), await IdAsync(file), user.SessionId);
    }

    private static async Task<Guid> IdAsync(HttpResponseMessage answer) =>
        (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

    /// <summary>Rows created since the corpus began (other suites' cleanup of older rows cannot disturb the count), and the target's version.</summary>
    private async Task<WriteCounts> CountWritesAsync(CorpusTargets targets, DateTimeOffset since)
    {
        var databases = platform.Databases;
        return new WriteCounts(
            await databases.CountAsync("auth", "SELECT count(*) FROM users WHERE created_at >= $1", since),
            await databases.CountAsync("auth", "SELECT count(*) FROM sessions WHERE created_at >= $1", since),
            await databases.CountAsync("tasks", "SELECT count(*) FROM tasks WHERE created_at >= $1", since),
            await databases.CountAsync("tasks", "SELECT version FROM tasks WHERE id = $1", targets.TaskId),
            await databases.CountAsync("files", "SELECT count(*) FROM files WHERE created_at >= $1", since),
            await databases.CountAsync("files", "SELECT count(*) FROM file_chunks c WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = c.file_id)"));
    }

    private static AcceptedWrites Accepted(IReadOnlyList<CorpusOutcome> outcomes)
    {
        int Count(string route, HttpStatusCode status) => outcomes.Count(o => o.Request.Route == route && o.Status == status);
        var targetUpdates = outcomes.Count(o => o.Request.Route is "PUT /api/tasks/{id}" or "PATCH /api/tasks/{id}" && o.Request.Kind != "bad id" && o.Succeeded);
        return new AcceptedWrites(Count("POST /api/auth/register", HttpStatusCode.Created), Count("POST /api/auth/login", HttpStatusCode.OK),
            Count("POST /api/tasks", HttpStatusCode.Created), targetUpdates, Count("POST /api/files", HttpStatusCode.Created));
    }

    private static void WriteReport(IReadOnlyList<CorpusOutcome> outcomes)
    {
        var rows = outcomes.GroupBy(o => o.Request.Route).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (IReadOnlyList<object>)
        [
            g.Key, g.Count(), g.Count(o => o.Succeeded), g.Count(o => (int)o.Status is >= 400 and < 500), g.Count(o => (int)o.Status >= 500),
            g.Count(o => o.Broken), string.Join(" ", g.GroupBy(o => (int)o.Status).OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Count()}")),
            Report.Ms(g.Max(o => o.Elapsed)),
        ]);
        Report.Write("test", "bad-input", $"""
            ### Generated corpus through the gateway (`make test`)

            {outcomes.Count} requests (seed {Seed}): malformed and deeply nested JSON, wrong types and hostile values in every field, invalid
            UTF-8, control characters, odd content types, oversize bodies, bad ids, cursors, limits and ranges, junk credentials, hostile file
            names and multipart shapes, and random mutations of valid bodies. Accepted requests (2xx) are legitimate bodies the corpus happened
            to contain; the suite checks each of them wrote exactly one row and one event, and every refused one wrote nothing.

            {Report.Table(["route", "requests", "2xx", "4xx", "5xx or no answer (599)", "broken", "statuses", "slowest"], rows)}
            """);
    }

    private sealed record WriteCounts(long Users, long Sessions, long Tasks, long TargetTaskVersion, long Files, long OrphanChunks);

    private sealed record AcceptedWrites(int Registrations, int Logins, int TasksCreated, int TargetTaskUpdates, int Uploads)
    {
        public int Events => Registrations + TasksCreated + TargetTaskUpdates + Uploads;
    }
}
