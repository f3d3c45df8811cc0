using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Gateway.Events;
using Platform.Testing;

namespace Platform.Gateway.Tests;

/// <summary>
/// <c>GET /api/events</c> end to end: real auth, tasks, files, PostgreSQL, Redis and RabbitMQ; the platform's gateway
/// plus a second gateway instance in the test process, each with its own consumer of the exchange.
/// </summary>
[Collection(GatewayPlatformCollection.Name)]
public sealed class EventStreamTests(GatewayPlatform platform)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_task_created_through_one_gateway_reaches_the_users_other_session_on_another_gateway_within_a_second()
    {
        await using var second = await StartGatewayAsync();
        var phone = await platform.SignUpAsync();
        var laptop = await platform.SignInAgainAsync(phone);
        await using var laptopStream = await OpenAsync(second.Address, laptop);
        await using var phoneStream = await OpenAsync(platform.Gateway, phone);

        var created = Stopwatch.StartNew();
        var task = await CreateTaskAsync(phone, "Buy milk");
        var onLaptop = await laptopStream.NextEventAsync(Wait);
        var latency = created.Elapsed;
        var onPhone = await phoneStream.NextEventAsync(Wait);

        Assert.Equal("task.created", onLaptop.Type);
        Assert.Equal(task.GetProperty("id").GetString(), onLaptop.Json.GetProperty("data").GetProperty("task").GetProperty("id").GetString());
        Assert.Equal("Buy milk", onLaptop.Json.GetProperty("data").GetProperty("task").GetProperty("title").GetString());
        Assert.Equal($"\"{task.GetProperty("version").GetInt64()}\"", onLaptop.Json.GetProperty("data").GetProperty("etag").GetString());
        Assert.Equal(onLaptop.Id, onPhone.Id); // one id on every instance: clients dedupe by it
        Assert.Equal(onLaptop.Id, onLaptop.Json.GetProperty("id").GetString());
        Assert.True(latency < TimeSpan.FromSeconds(1), $"the event took {latency.TotalMilliseconds:0} ms");
        Assert.DoesNotContain(phone.UserId, onLaptop.Data, StringComparison.Ordinal); // the owner's id is not repeated to clients
    }

    [Fact]
    public async Task Another_users_events_never_reach_a_stream()
    {
        var alice = await platform.SignUpAsync();
        var mallory = await platform.SignUpAsync();
        await using var aliceStream = await OpenAsync(platform.Gateway, alice);

        await CreateTaskAsync(mallory, "mallory's secret plan");
        await UploadAsync(mallory, "mallory.txt");
        var own = await CreateTaskAsync(alice, "alice's own");
        var first = await aliceStream.NextEventAsync(Wait);

        // Mallory's events were published first; the first thing Alice sees is her own task.
        Assert.Equal("task.created", first.Type);
        Assert.Equal(own.GetProperty("id").GetString(), first.Json.GetProperty("data").GetProperty("task").GetProperty("id").GetString());
    }

    [Fact]
    public async Task File_and_task_changes_carry_what_a_client_needs_to_update_its_view()
    {
        var user = await platform.SignUpAsync();
        await using var stream = await OpenAsync(platform.Gateway, user);

        var file = await UploadAsync(user, "notes.txt");
        var uploaded = await stream.NextEventAsync(Wait);
        var task = await CreateTaskAsync(user, "to rename");
        await stream.NextEventAsync(Wait);
        using (var patch = platform.Request(HttpMethod.Patch, $"/api/tasks/{task.GetProperty("id").GetString()}", user.ClientAddress, user.AccessToken))
        {
            patch.Content = JsonContent.Create(new { title = "renamed" });
            (await platform.Client.SendAsync(patch)).EnsureSuccessStatusCode();
        }
        var updated = await stream.NextEventAsync(Wait);
        await DeleteAsync(user, $"/api/tasks/{task.GetProperty("id").GetString()}");
        var taskDeleted = await stream.NextEventAsync(Wait);
        await DeleteAsync(user, $"/api/files/{file.GetProperty("id").GetString()}");
        var fileDeleted = await stream.NextEventAsync(Wait);

        Assert.Equal("file.uploaded", uploaded.Type);
        var uploadedFile = uploaded.Json.GetProperty("data").GetProperty("file");
        Assert.Equal(file.GetProperty("id").GetString(), uploadedFile.GetProperty("id").GetString());
        Assert.Equal(file.GetProperty("sha256").GetString(), uploadedFile.GetProperty("sha256").GetString());
        Assert.Equal(file.GetProperty("createdAt").GetDateTimeOffset(), uploadedFile.GetProperty("createdAt").GetDateTimeOffset());
        Assert.Equal("task.updated", updated.Type);
        Assert.Equal("renamed", updated.Json.GetProperty("data").GetProperty("task").GetProperty("title").GetString());
        Assert.Equal("\"2\"", updated.Json.GetProperty("data").GetProperty("etag").GetString());
        Assert.Equal(("task.deleted", task.GetProperty("id").GetString()), (taskDeleted.Type, taskDeleted.Json.GetProperty("data").GetProperty("taskId").GetString()));
        Assert.Equal(("file.deleted", file.GetProperty("id").GetString()), (fileDeleted.Type, fileDeleted.Json.GetProperty("data").GetProperty("fileId").GetString()));
    }

    [Fact]
    public async Task Revoking_a_session_tells_its_stream_session_terminated_and_ends_it_while_the_other_session_streams_on()
    {
        await using var second = await StartGatewayAsync();
        var phone = await platform.SignUpAsync();
        var laptop = await platform.SignInAgainAsync(phone);
        await using var phoneStream = await OpenAsync(second.Address, phone);
        await using var laptopStream = await OpenAsync(platform.Gateway, laptop);

        await DeleteAsync(laptop, $"/api/auth/sessions/{phone.SessionId}");
        var revoked = Stopwatch.StartNew();
        var last = await phoneStream.NextEventAsync(Wait, sessionEvents: true);
        while (last.Type == "session.created")
        {
            Assert.Equal(laptop.SessionId, last.Json.GetProperty("data").GetProperty("sessionId").GetString()); // the laptop's sign-in, relayed late
            last = await phoneStream.NextEventAsync(Wait, sessionEvents: true);
        }
        var end = await phoneStream.NextAsync(Wait);
        var ended = revoked.Elapsed;
        var task = await CreateTaskAsync(laptop, "still here");
        var onLaptop = await laptopStream.NextEventAsync(Wait);

        Assert.Equal("session.terminated", last.Type);
        Assert.Equal(phone.SessionId, last.Json.GetProperty("data").GetProperty("sessionId").GetString());
        Assert.Null(end);
        Assert.True(ended < TimeSpan.FromSeconds(2), $"the stream ended {ended.TotalMilliseconds:0} ms after the revocation");
        Assert.Equal(task.GetProperty("id").GetString(), onLaptop.Json.GetProperty("data").GetProperty("task").GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_sign_in_reaches_the_users_other_streams_but_never_the_new_sessions_own()
    {
        var phone = await platform.SignUpAsync();
        await using var phoneStream = await OpenAsync(platform.Gateway, phone);
        await CreateTaskAsync(phone, "before the laptop");
        var before = await phoneStream.NextEventAsync(Wait);

        var laptop = await platform.SignInAgainAsync(phone);
        var created = await phoneStream.NextEventAsync(Wait, sessionEvents: true);
        // The laptop resumes from before its own sign-in: the log holds its session.created, which it must not get.
        await using var laptopStream = await OpenAsync(platform.Gateway, laptop, lastEventId: before.Id);
        var task = await CreateTaskAsync(phone, "after the laptop");
        var onLaptop = new List<ServerSentEvent>();
        do
        {
            onLaptop.Add(await laptopStream.NextEventAsync(Wait, sessionEvents: true));
        }
        while (onLaptop[^1].Type != "task.created");

        Assert.Equal("task.created", before.Type);
        Assert.Equal(("session.created", laptop.SessionId), (created.Type, created.Json.GetProperty("data").GetProperty("sessionId").GetString()));
        Assert.Equal(task.GetProperty("id").GetString(), onLaptop[^1].Json.GetProperty("data").GetProperty("task").GetProperty("id").GetString());
        // Only the phone's own sign-in may precede it (its relay can lag behind the first task's event).
        Assert.All(onLaptop.SkipLast(1), e => Assert.Equal(("session.created", phone.SessionId), (e.Type, e.Json.GetProperty("data").GetProperty("sessionId").GetString())));
    }

    [Fact]
    public async Task Reconnecting_with_Last_Event_ID_delivers_exactly_the_missed_events_in_order()
    {
        var user = await platform.SignUpAsync();
        // Another device of the user stays connected: when it has seen an event, that event is in the log.
        await using var other = await OpenAsync(platform.Gateway, await platform.SignInAgainAsync(user));
        string seen;
        await using (var stream = await OpenAsync(platform.Gateway, user))
        {
            await CreateTaskAsync(user, "seen");
            seen = (await stream.NextEventAsync(Wait)).Id!;
        }
        await other.NextEventAsync(Wait);
        var first = await CreateTaskAsync(user, "missed 1");
        var secondTask = await CreateTaskAsync(user, "missed 2");
        await DeleteAsync(user, $"/api/tasks/{first.GetProperty("id").GetString()}");
        await CreateTaskAsync(user, "missed 3");
        for (var i = 0; i < 4; i++)
        {
            await other.NextEventAsync(Wait);
        }

        await using var resumed = await OpenAsync(platform.Gateway, user, lastEventId: seen);
        var replay = new List<ServerSentEvent>();
        for (var i = 0; i < 4; i++)
        {
            replay.Add(await resumed.NextEventAsync(Wait));
        }
        var after = await CreateTaskAsync(user, "after");
        var live = await resumed.NextEventAsync(Wait);

        Assert.Equal(["task.created", "task.created", "task.deleted", "task.created"], replay.Select(e => e.Type));
        Assert.Equal([first.GetProperty("id").GetString(), secondTask.GetProperty("id").GetString()],
            replay.Take(2).Select(e => e.Json.GetProperty("data").GetProperty("task").GetProperty("id").GetString()));
        Assert.Equal(4, replay.Select(e => e.Id).Distinct().Count());
        Assert.DoesNotContain(seen, replay.Select(e => e.Id));
        // Nothing repeated between the replay and the live events.
        Assert.Equal(after.GetProperty("id").GetString(), live.Json.GetProperty("data").GetProperty("task").GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_Last_Event_ID_that_cannot_be_resumed_gets_a_resync_and_the_stream_goes_on()
    {
        var user = await platform.SignUpAsync();
        var other = await platform.SignUpAsync();
        string othersEventId;
        await using (var otherStream = await OpenAsync(platform.Gateway, other))
        {
            await CreateTaskAsync(other, "not yours");
            othersEventId = (await otherStream.NextEventAsync(Wait)).Id!;
        }

        foreach (var (lastEventId, reason) in new[] { ("not-an-id", "malformed"), ("", "malformed"), (Guid.NewGuid().ToString(), "unknown"), (othersEventId, "unknown") })
        {
            await using var stream = await OpenAsync(platform.Gateway, user, lastEventId: lastEventId);
            var first = await stream.NextEventAsync(Wait);
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            Assert.Equal(("resync", reason), (first.Type, first.Json.GetProperty("reason").GetString()));
            Assert.Null(first.Id);
        }
        await using var stillStreaming = await OpenAsync(platform.Gateway, user, lastEventId: othersEventId);
        Assert.Equal("resync", (await stillStreaming.NextEventAsync(Wait)).Type);
        var task = await CreateTaskAsync(user, "after the resync");
        Assert.Equal(task.GetProperty("id").GetString(), (await stillStreaming.NextEventAsync(Wait)).Json.GetProperty("data").GetProperty("task").GetProperty("id").GetString());
        Assert.True(await platform.MetricAsync("gateway", "gateway_event_stream_resyncs_total{reason=\"unknown\"}") >= 3);
    }

    [Fact]
    public async Task Too_many_streams_per_user_or_per_instance_is_a_429_problem()
    {
        await using var gateway = await StartGatewayAsync(new() { ["EventStream:MaxStreamsPerUser"] = "2", ["EventStream:MaxStreams"] = "3" });
        var user = await platform.SignUpAsync();
        var another = await platform.SignUpAsync();
        var third = await platform.SignUpAsync();
        await using var one = await OpenAsync(gateway.Address, user);
        await using var two = await OpenAsync(gateway.Address, await platform.SignInAgainAsync(user));

        await using var perUser = await EventStreamClient.OpenAsync(gateway.Address, user.AccessToken);
        await using var anothers = await OpenAsync(gateway.Address, another);
        await using var perInstance = await EventStreamClient.OpenAsync(gateway.Address, third.AccessToken);

        foreach (var refused in new[] { perUser, perInstance })
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(refused.Response.Headers.RetryAfter);
            var problem = await refused.Response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("https://platform.dev/problems/too-many-requests", problem.GetProperty("type").GetString());
        }
        await one.DisposeAsync();
        await Poll.UntilAsync(async () =>
        {
            await using var again = await EventStreamClient.OpenAsync(gateway.Address, user.AccessToken);
            return again.StatusCode == HttpStatusCode.OK;
        }, Wait, "a closed stream to free its place");
    }

    /// <summary>Behind a load balancer a user's streams spread over the instances: the limit is the fleet's, not each one's.</summary>
    [Fact]
    public async Task A_users_streams_are_limited_across_the_gateway_instances_and_a_closed_one_frees_its_place_on_any()
    {
        Dictionary<string, string?> limit = new() { ["EventStream:MaxStreamsPerUser"] = "2" };
        await using var first = await StartGatewayAsync(limit);
        await using var second = await StartGatewayAsync(limit);
        var user = await platform.SignUpAsync();
        var onFirst = await OpenAsync(first.Address, user);
        await using var onSecond = await OpenAsync(second.Address, await platform.SignInAgainAsync(user));

        foreach (var gateway in new[] { first, second })
        {
            await using var third = await EventStreamClient.OpenAsync(gateway.Address, user.AccessToken, user.ClientAddress);
            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        }
        await using (var anothers = await OpenAsync(first.Address, await platform.SignUpAsync()))
        {
            // Another user's place is their own.
        }

        await onFirst.DisposeAsync();
        await Poll.UntilAsync(async () =>
        {
            await using var again = await EventStreamClient.OpenAsync(second.Address, user.AccessToken, user.ClientAddress);
            return again.StatusCode == HttpStatusCode.OK;
        }, Wait, "the stream closed on the first instance to free a place on the second");
    }

    /// <summary>A crashed instance cannot give its places back: they stop counting when its lease runs out.</summary>
    [Fact]
    public async Task Streams_held_by_an_instance_whose_lease_ran_out_stop_counting_and_those_of_a_live_one_count()
    {
        await using var gateway = await StartGatewayAsync(new() { ["EventStream:MaxStreamsPerUser"] = "2" });
        var crashed = await platform.SignUpAsync();
        var elsewhere = await platform.SignUpAsync();
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(platform.Tier.RedisConnectionString);
        var db = redis.GetDatabase();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await db.HashSetAsync("{eventstreams}:gateways", [new("crashed-pod", now - 1_000), new("live-pod", now + 60_000)]);
        await db.HashSetAsync($"{{eventstreams}}:user:{crashed.UserId}", "crashed-pod", 2);
        await db.HashSetAsync($"{{eventstreams}}:user:{elsewhere.UserId}", "live-pod", 2);

        await using var one = await OpenAsync(gateway.Address, crashed);
        await using var two = await OpenAsync(gateway.Address, await platform.SignInAgainAsync(crashed));
        await using var refused = await EventStreamClient.OpenAsync(gateway.Address, elsewhere.AccessToken, elsewhere.ClientAddress);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.False(await db.HashExistsAsync($"{{eventstreams}}:user:{crashed.UserId}", "crashed-pod"));
        Assert.Equal(2, (int)await db.HashGetAsync($"{{eventstreams}}:user:{crashed.UserId}", gateway.Services.GetRequiredService<StreamLeases>().Instance));
    }

    /// <summary>A count Redis lost (a key evicted, a write lost in a restart) is put back from the instance's own within a minute.</summary>
    [Fact]
    public async Task A_count_redis_lost_is_written_back_from_the_instances_own()
    {
        await using var gateway = await StartGatewayAsync(new() { ["EventStream:MaxStreamsPerUser"] = "2" });
        var leases = gateway.Services.GetRequiredService<StreamLeases>();
        var user = await platform.SignUpAsync();
        await using var stream = await OpenAsync(gateway.Address, user);
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(platform.Tier.RedisConnectionString);
        var key = $"{{eventstreams}}:user:{user.UserId}";
        Assert.Equal(1, (int)await redis.GetDatabase().HashGetAsync(key, leases.Instance));

        await redis.GetDatabase().KeyDeleteAsync(key);
        for (var beat = 0; beat < StreamLeases.FullRewriteEvery; beat++)
        {
            Assert.True(await leases.HeartbeatAsync(CancellationToken.None));
        }

        Assert.Equal(1, (int)await redis.GetDatabase().HashGetAsync(key, leases.Instance));
    }

    /// <summary>
    /// Without Redis each instance still bounds a user's streams by itself; when Redis returns, what it held meanwhile
    /// is written back, so the fleet's count is right again.
    /// </summary>
    [Fact]
    public async Task With_redis_down_a_users_streams_are_limited_per_instance_and_counted_again_when_it_returns()
    {
        Dictionary<string, string?> limit = new() { ["EventStream:MaxStreamsPerUser"] = "1" };
        await using var first = await StartGatewayAsync(limit);
        await using var second = await StartGatewayAsync(limit);
        var user = await platform.SignUpAsync();
        var firstsLeases = first.Services.GetRequiredService<StreamLeases>();
        EventStreamClient? held = null;
        try
        {
            await platform.Tier.DownAsync(DataTier.Redis);
            try
            {
                held = await OpenAsync(first.Address, user);
                await using var local = await EventStreamClient.OpenAsync(first.Address, user.AccessToken, user.ClientAddress);
                Assert.Equal(HttpStatusCode.TooManyRequests, local.StatusCode);
            }
            finally
            {
                await platform.Tier.UpAsync(DataTier.Redis);
            }
            await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(platform.Tier.RedisConnectionString);
            // Under a new name: what Redis held under the old one may be wrong after an outage.
            await Poll.UntilAsync(async () => await redis.GetDatabase().HashGetAsync($"{{eventstreams}}:user:{user.UserId}", firstsLeases.Instance) == 1,
                StreamLeases.HeartbeatInterval * 3, "the first instance to write back the stream it opened while Redis was down");
            // The second instance asks Redis again once a heartbeat of its own has reached it.
            var secondsLeases = second.Services.GetRequiredService<StreamLeases>();
            await Poll.UntilAsync(() => secondsLeases.HeartbeatAsync(CancellationToken.None), StreamLeases.HeartbeatInterval * 3, "the second instance to reach Redis");

            await using var onSecond = await EventStreamClient.OpenAsync(second.Address, user.AccessToken, user.ClientAddress);
            Assert.Equal(HttpStatusCode.TooManyRequests, onSecond.StatusCode);
        }
        finally
        {
            if (held is not null)
            {
                await held.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Without_a_token_the_stream_is_a_401_problem()
    {
        await using var stream = await EventStreamClient.OpenAsync(platform.Gateway, "not-a-token");

        Assert.Equal(HttpStatusCode.Unauthorized, stream.StatusCode);
        Assert.Equal("application/problem+json", stream.Response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_idle_stream_gets_keep_alive_comments_and_streams_unbuffered()
    {
        await using var gateway = await StartGatewayAsync(new() { ["EventStream:KeepAliveSeconds"] = "1" });
        var user = await platform.SignUpAsync();
        await using var stream = await OpenAsync(gateway.Address, user);

        var comment = await stream.NextAsync(TimeSpan.FromSeconds(3), comments: true);

        Assert.Equal("keep-alive", comment?.Comment);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", stream.Response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Equal("no", stream.Response.Headers.GetValues("X-Accel-Buffering").Single());
    }

    [Fact]
    public async Task The_stream_ends_when_its_access_token_expires()
    {
        var user = await platform.SignUpAsync();
        await using var stream = await OpenAsync(platform.Gateway, user);

        var end = await stream.NextAsync(user.ExpiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5));
        var endedAt = DateTimeOffset.UtcNow;

        Assert.Null(end);
        Assert.InRange(endedAt, user.ExpiresAt - TimeSpan.FromSeconds(1), user.ExpiresAt + TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task With_redis_down_events_still_stream_live_and_a_resume_is_a_resync()
    {
        var user = await platform.SignUpAsync();
        await using var stream = await OpenAsync(platform.Gateway, user);
        await CreateTaskAsync(user, "before");
        var before = await stream.NextEventAsync(Wait);
        await platform.Tier.DownAsync(DataTier.Redis);
        try
        {
            var task = await CreateTaskAsync(user, "while redis is down");
            var live = await stream.NextEventAsync(Wait);
            await using var resumed = await OpenAsync(platform.Gateway, user, lastEventId: before.Id);
            var resync = await resumed.NextEventAsync(Wait);

            Assert.Equal(task.GetProperty("id").GetString(), live.Json.GetProperty("data").GetProperty("task").GetProperty("id").GetString());
            Assert.Equal(("resync", "unavailable"), (resync.Type, resync.Json.GetProperty("reason").GetString()));
        }
        finally
        {
            await platform.Tier.UpAsync(DataTier.Redis);
            // The next test's events must reach the resume log: wait for the gateway to have Redis again.
            using var http = new HttpClient { BaseAddress = platform.Gateway };
            await Poll.UntilAsync(async () =>
            {
                using var ready = await http.GetAsync("/readyz");
                var checks = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks");
                return checks.GetProperty("redis").GetProperty("status").GetString() == "Healthy";
            }, TimeSpan.FromSeconds(30), "the gateway to reconnect to Redis");
        }
    }

    [Fact]
    public async Task A_broker_restart_loses_no_event_for_a_connected_client()
    {
        var user = await platform.SignUpAsync();
        await using var stream = await OpenAsync(platform.Gateway, user);
        await platform.Tier.DownAsync(DataTier.RabbitMq);
        var created = new List<string>();
        try
        {
            // Written while the broker is away: the outbox holds them until it is back.
            for (var i = 0; i < 3; i++)
            {
                created.Add((await CreateTaskAsync(user, $"during outage {i}")).GetProperty("id").GetString()!);
            }
        }
        finally
        {
            await platform.Tier.UpAsync(DataTier.RabbitMq);
        }

        var received = new List<string>();
        while (received.Count < created.Count)
        {
            var next = await stream.NextEventAsync(TimeSpan.FromSeconds(60));
            received.Add(next.Json.GetProperty("data").GetProperty("task").GetProperty("id").GetString()!);
        }
        Assert.Equal(created.Order(), received.Distinct().Order());
    }

    private async Task<InProcessGateway> StartGatewayAsync(Dictionary<string, string?>? overrides = null)
    {
        var gateway = InProcessGateway.Start(platform, overrides);
        var consumer = gateway.Services.GetRequiredService<EventStreamConsumer>();
        await Poll.UntilAsync(() => Task.FromResult(consumer.Consuming), Wait, "the second gateway to consume the exchange");
        return gateway;
    }

    private static async Task<EventStreamClient> OpenAsync(Uri gateway, SignedInUser user, string? lastEventId = null)
    {
        var stream = await EventStreamClient.OpenAsync(gateway, user.AccessToken, user.ClientAddress, lastEventId);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        return stream;
    }

    private async Task<JsonElement> CreateTaskAsync(SignedInUser user, string title)
    {
        using var request = platform.Request(HttpMethod.Post, "/api/tasks", user.ClientAddress, user.AccessToken);
        request.Content = JsonContent.Create(new { title });
        using var answer = await platform.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
        return await answer.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<JsonElement> UploadAsync(SignedInUser user, string name)
    {
        using var request = platform.Request(HttpMethod.Post, $"/api/files?name={name}", user.ClientAddress, user.AccessToken);
        request.Content = new StringContent("hello", System.Text.Encoding.UTF8, "text/plain");
        using var answer = await platform.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
        return await answer.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task DeleteAsync(SignedInUser user, string path)
    {
        using var request = platform.Request(HttpMethod.Delete, path, user.ClientAddress, user.AccessToken);
        using var answer = await platform.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
    }
}
