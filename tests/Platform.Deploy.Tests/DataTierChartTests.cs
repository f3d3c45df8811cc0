using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Broker;
using Platform.Data;
using Platform.Redis;
using Platform.Testing;
using StackExchange.Redis;

namespace Platform.Deploy.Tests;

/// <summary>
/// What the chart's data tier (templates/datatier, _datatier.tpl) must get right for a real cluster: connection
/// limits that fit the scaling plan, replicas that recover, stores that boot after a re-creation, and connection
/// settings the services can use whatever the password holds.
/// </summary>
public sealed partial class DataTierChartTests
{
    /// <summary>wal_status of a slot whose WAL the primary still has (unreserved: past max_slot_wal_keep_size, not yet removed).</summary>
    private static readonly string[] HoldingWal = ["reserved", "extended", "unreserved"];

    private const string NastyPassword = "p;a,s@s%w=o'r\"d $(x) \\";

    [Fact]
    public async Task Max_connections_covers_every_pool_the_scaling_plan_can_open()
    {
        var manifests = await RenderAsync();
        var policy = Assert.Single(manifests.OfKind("ScalingPolicy"))["spec"]!["services"]!.AsArray();
        var needed = 0;
        foreach (var service in policy.Where(s => (string)s!["name"]! is "auth" or "tasks" or "files"))
        {
            var environment = ServiceEnvironment(Deployment(manifests, (string)service!["deployment"]!), password: "plain");
            var pool = new NpgsqlConnectionStringBuilder(environment["ConnectionStrings__Postgres"]).MaxPoolSize;
            // Each pod: its pool, and the outbox listener's own unpooled connection; a rollout at maxReplicas adds its
            // surge (25 %, rounded up) of starting pods and as many old ones still draining.
            var pods = (int)(long)service["maxReplicas"]!;
            needed += (pods + 2 * ((pods + 3) / 4)) * (pool + 1);
        }

        var maxConnections = Setting(ServerArgs(manifests, "platform-postgresql"), "max_connections", 100);
        Assert.True(maxConnections >= needed + 10, $"max_connections {maxConnections} < {needed} pooled connections of a rollout at maxReplicas + 10 for migrations and superusers");
    }

    [Fact]
    public async Task Replicas_never_have_less_of_what_a_hot_standby_must_match_than_the_primary()
    {
        foreach (var manifests in new[] { await RenderAsync(), await RenderAsync("--set", "postgresql.primary.extraArgs={-c,max_connections=5000,-c,max_locks_per_transaction=256}") })
        {
            var primary = ServerArgs(manifests, "platform-postgresql");
            var replica = ServerArgs(manifests, "platform-postgresql-read");

            foreach (var (setting, fallback) in new[] { ("max_connections", 100), ("max_locks_per_transaction", 64), ("max_wal_senders", 10), ("max_prepared_transactions", 0), ("max_worker_processes", 8) })
            {
                Assert.True(Setting(replica, setting, fallback) >= Setting(primary, setting, fallback), $"replica {setting} < primary's");
            }
        }
    }

    [Fact]
    public async Task Replicas_stream_through_slots_whose_wal_the_primary_bounds()
    {
        var manifests = await RenderAsync("--set", "postgresql.readReplicas.replicaCount=3");
        var primary = ServerArgs(manifests, "platform-postgresql");
        var keep = Regex.Match(primary.Last(a => a.StartsWith("max_slot_wal_keep_size=", StringComparison.Ordinal)), "=([0-9]+)GB$");

        Assert.True(keep.Success && int.Parse(keep.Groups[1].Value, CultureInfo.InvariantCulture) < 10, "max_slot_wal_keep_size must bound a slot's WAL well under the 10Gi volume");
        Assert.True(Setting(primary, "max_replication_slots", 10) >= 3);
        var clone = ReplicaScript(manifests, "clone-primary.sh");
        Assert.Contains("-S \"$slot\"", clone, StringComparison.Ordinal);
        Assert.Contains("replica_${HOSTNAME##*-}", clone, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replica_whose_slot_was_lost_clones_the_primary_again_and_streams()
    {
        var manifests = await RenderAsync();
        await using var servers = await LocalPostgres.StartPrimaryAsync(DataTier.WithOffset(26700));
        var replicaData = Path.Combine(servers.Directory, "replica");

        // First start: no clone yet, so it clones and creates its slot.
        await servers.StartReplicaContainerAsync(manifests, replicaData);
        Assert.Contains(await servers.SlotStatusAsync("replica_0"), HoldingWal);
        Assert.False(File.Exists(servers.CloneMark));
        await servers.PrimarySqlAsync("CREATE TABLE marks (n int); INSERT INTO marks VALUES (1);");
        await servers.WaitForReplicaAsync("SELECT count(*) FROM marks", "1");
        Assert.Equal(0, (await servers.ReplicaAliveAsync(manifests)).ExitCode);

        // A restart while the slot holds its WAL keeps the clone.
        await servers.StopReplicaAsync(replicaData);
        await File.WriteAllTextAsync(Path.Combine(replicaData, "kept-clone"), "");
        Assert.Contains("streaming from the clone", await servers.StartReplicaContainerAsync(manifests, replicaData), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(replicaData, "kept-clone")));
        await servers.StopReplicaAsync(replicaData);

        // Down long enough that the primary invalidates its slot (max_slot_wal_keep_size): the clone is useless, the
        // liveness check fails, and the restarted container clones the primary again before its server starts.
        await servers.InvalidateSlotAsync("replica_0");
        await servers.PrimarySqlAsync("INSERT INTO marks VALUES (2);");
        var alive = await servers.ReplicaAliveAsync(manifests);
        Assert.Equal(1, alive.ExitCode);
        Assert.Contains("slot replica_0 is lost", alive.Output, StringComparison.Ordinal);
        Assert.Contains("cloning again", await servers.StartReplicaContainerAsync(manifests, replicaData), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(replicaData, "kept-clone")));
        Assert.Contains(await servers.SlotStatusAsync("replica_0"), HoldingWal);
        await servers.PrimarySqlAsync("INSERT INTO marks VALUES (3);");
        await servers.WaitForReplicaAsync("SELECT count(*) FROM marks", "3");
    }

    [Fact]
    public async Task An_interrupted_clone_is_cloned_again_never_started()
    {
        var manifests = await RenderAsync();
        await using var servers = await LocalPostgres.StartPrimaryAsync(DataTier.WithOffset(26706));
        var replicaData = Path.Combine(servers.Directory, "replica");
        await servers.PrimarySqlAsync("CREATE TABLE marks (n int); INSERT INTO marks VALUES (1);");

        // What a container killed in pg_basebackup leaves: the slot it created at its start, and a copy that has
        // PG_VERSION (among the first files) but not global/pg_control (the last), beside the data directory.
        await servers.ShellAsync($"""
            pg_basebackup -h 127.0.0.1 -p {servers.Port} -U replicator -D "$PGDATA.cloning" -X stream -R -C -S replica_0 -c fast
            rm "$PGDATA.cloning/global/pg_control" && touch "$PGDATA.cloning/partial"
            """, replicaData);
        Assert.Contains(await servers.SlotStatusAsync("replica_0"), HoldingWal);
        await servers.StartReplicaContainerAsync(manifests, replicaData);
        Assert.False(File.Exists(Path.Combine(replicaData, "partial")));
        Assert.False(System.IO.Directory.Exists(replicaData + ".cloning"));
        await servers.PrimarySqlAsync("INSERT INTO marks VALUES (2);");
        await servers.WaitForReplicaAsync("SELECT count(*) FROM marks", "2");

        // A partial copy in the data directory itself, as the clones before this version were made (and kept).
        await servers.StopReplicaAsync(replicaData);
        File.Delete(Path.Combine(replicaData, "global", "pg_control"));
        Assert.Contains("holds no complete clone", await servers.StartReplicaContainerAsync(manifests, replicaData), StringComparison.Ordinal);
        Assert.Contains(await servers.SlotStatusAsync("replica_0"), HoldingWal);
        await servers.PrimarySqlAsync("INSERT INTO marks VALUES (3);");
        await servers.WaitForReplicaAsync("SELECT count(*) FROM marks", "3");
    }

    [Fact]
    public async Task A_replica_with_a_clone_serves_reads_while_the_primary_is_down()
    {
        var manifests = await RenderAsync();
        await using var servers = await LocalPostgres.StartPrimaryAsync(DataTier.WithOffset(26708));
        var replicaData = Path.Combine(servers.Directory, "replica");
        await servers.PrimarySqlAsync("CREATE TABLE marks (n int); INSERT INTO marks VALUES (1);");
        await servers.StartReplicaContainerAsync(manifests, replicaData);
        await servers.WaitForReplicaAsync("SELECT count(*) FROM marks", "1");
        await servers.StopReplicaAsync(replicaData);
        await servers.StopPrimaryAsync();

        // It waits a while for the primary, marked alive for the probes meanwhile, then starts from its clone.
        var starting = servers.StartReplicaContainerAsync(manifests, replicaData, primaryWaitSeconds: 6);
        await Poll.UntilAsync(() => Task.FromResult(File.Exists(servers.CloneMark)), TimeSpan.FromSeconds(5), "the clone mark while the replica waits for the primary");
        Assert.Contains("does not answer", await starting, StringComparison.Ordinal);
        Assert.False(File.Exists(servers.CloneMark));
        await servers.WaitForReplicaAsync("SELECT count(*) FROM marks", "1");

        // Back, the primary streams to it again.
        await servers.StartPrimaryAgainAsync();
        await servers.PrimarySqlAsync("INSERT INTO marks VALUES (2);");
        await servers.WaitForReplicaAsync("SELECT count(*) FROM marks", "2");
    }

    [Fact]
    public async Task A_replica_starts_and_streams_after_an_upgrade_lowered_max_connections()
    {
        var manifests = await RenderAsync();
        // The slot is kept whatever WAL the restarts write: with the setup's 1 MB a busy machine sometimes saw it lost,
        // and the replica, correctly, cloned the primary afresh — with its 120 — instead of showing the carry-over.
        const string keepSlot = "-c max_slot_wal_keep_size=-1";
        await using var servers = await LocalPostgres.StartPrimaryAsync(DataTier.WithOffset(26710), $"-c max_connections=200 {keepSlot}");
        var replicaData = Path.Combine(servers.Directory, "replica");
        await servers.PrimarySqlAsync("CREATE TABLE marks (n int); INSERT INTO marks VALUES (1);");
        await servers.StartReplicaContainerAsync(manifests, replicaData, maxConnections: 200);
        await servers.WaitForReplicaAsync("SELECT count(*) FROM marks", "1");
        Assert.Equal("", await servers.StandbySettingsAsync(manifests, replicaData, maxConnections: 200));

        // The upgrade restarts the primary with fewer connections, then the replica, whose control file still
        // records the primary's former value: a standby below it refuses to start.
        await servers.StopReplicaAsync(replicaData);
        await servers.StopPrimaryAsync();
        await servers.StartPrimaryAgainAsync($"-c max_connections=120 {keepSlot}");
        await servers.PrimarySqlAsync("INSERT INTO marks VALUES (2);");
        Assert.Equal("-c max_connections=200", await servers.StandbySettingsAsync(manifests, replicaData, maxConnections: 120));
        var restarted = await servers.StartReplicaContainerAsync(manifests, replicaData, maxConnections: 120);
        Assert.Contains("streaming from the clone", restarted, StringComparison.Ordinal);
        Assert.Contains("settings raised", restarted, StringComparison.Ordinal);
        Assert.Equal("200", await servers.ReplicaSqlAsync("SHOW max_connections"));
        await servers.WaitForReplicaAsync("SELECT count(*) FROM marks", "2");

        // Once it has replayed the primary's change, its control file records 120, and its next start uses its own.
        Assert.Equal("", await servers.StandbySettingsAsync(manifests, replicaData, maxConnections: 120));
        await servers.StopReplicaAsync(replicaData);
        await servers.StartReplicaContainerAsync(manifests, replicaData, maxConnections: 120);
        Assert.Equal("120", await servers.ReplicaSqlAsync("SHOW max_connections"));
    }

    [Fact]
    public async Task A_replica_prepares_its_data_at_every_start_of_its_container_and_its_probes_spare_it_meanwhile()
    {
        var manifests = await RenderAsync();
        var pod = PodTemplate(manifests, "platform-postgresql-read")["spec"]!;
        var container = Container(manifests, "platform-postgresql-read");
        var environment = container["env"]!.AsArray().Where(e => e!["value"] is not null).ToDictionary(e => (string)e!["name"]!, e => (string)e!["value"]!);

        // The kubelet restarts only the container of a replica whose slot was lost, and runs init containers only
        // when it creates the pod: the container's own command must clone, then run the image's entrypoint.
        Assert.Null(pod["initContainers"]);
        Assert.Equal(["sh", "/scripts/start-replica.sh"], container["command"]!.AsArray().Select(c => (string)c!));
        Assert.Equal("postgres", ServerArgs(manifests, "platform-postgresql-read")[0]);
        Assert.Contains("exec docker-entrypoint.sh \"$@\"", ReplicaScript(manifests, "start-replica.sh"), StringComparison.Ordinal);

        // The clone mark is on the run emptyDir: writable under a read-only root filesystem, and gone with the pod.
        var mark = environment["PLATFORM_CLONE_MARK"];
        var mount = container["volumeMounts"]!.AsArray().Single(m => mark.StartsWith((string)m!["mountPath"]! + "/", StringComparison.Ordinal))!;
        Assert.NotNull(pod["volumes"]!.AsArray().Single(v => (string)v!["name"]! == (string)mount["name"]!)!["emptyDir"]);

        // Each probe as the kubelet runs it in the container, while no server answers yet (pg_isready: 2).
        var directory = Path.Combine(Path.GetTempPath(), $"platform-replica-probes-{Guid.NewGuid():N}");
        try
        {
            var scripts = WriteReplicaScripts(manifests, Path.Combine(directory, "scripts"));
            var answering = WriteProgram(Path.Combine(directory, "bin"), "pg_isready", "exit 2");
            environment["PLATFORM_CLONE_MARK"] = Path.Combine(directory, "clone-primary.running");
            environment["PLATFORM_REPLICATION_PASSWORD"] = "unused";
            environment["PATH"] = $"{answering}:{Environment.GetEnvironmentVariable("PATH")}";
            async Task<bool> Passes(string probe)
            {
                var command = container[probe]!["exec"]!["command"]!.AsArray().Select(c => ((string)c!).Replace("/scripts/", scripts + "/", StringComparison.Ordinal)).ToList();
                return (await ShellCommand.RunAsync(command[0], command[1..], environment, TimeSpan.FromSeconds(30))).ExitCode == 0;
            }

            // clone-primary.sh running: alive (a restart would only begin the clone again), not ready.
            await File.WriteAllTextAsync(environment["PLATFORM_CLONE_MARK"], "");
            Assert.Equal((true, true, false), (await Passes("startupProbe"), await Passes("livenessProbe"), await Passes("readinessProbe")));
            File.Delete(environment["PLATFORM_CLONE_MARK"]);
            Assert.Equal((false, false, false), (await Passes("startupProbe"), await Passes("livenessProbe"), await Passes("readinessProbe")));
        }
        finally
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Postgresql_servers_get_a_startup_probe_long_enough_for_crash_recovery()
    {
        var manifests = await RenderAsync();
        foreach (var name in new[] { "platform-postgresql", "platform-postgresql-read" })
        {
            var container = Container(manifests, name);
            var startup = container["startupProbe"];

            Assert.NotNull(startup);
            Assert.True((long)startup["periodSeconds"]! * (long)startup["failureThreshold"]! >= 15 * 60, $"{name}: the startup probe allows less than 15 min");
            Assert.Null(container["livenessProbe"]!["initialDelaySeconds"]);
        }
    }

    [Fact]
    public async Task Rabbitmq_is_a_supported_release_whose_erlang_cookie_is_off_the_data_volume()
    {
        var manifests = await RenderAsync();
        var statefulSet = manifests.OfKind("StatefulSet").Single(s => s.Name() == "platform-rabbitmq");
        var pod = statefulSet["spec"]!["template"]!["spec"]!;
        var container = Container(manifests, "platform-rabbitmq");
        var version = Regex.Match((string)container["image"]!, @":(\d+)\.(\d+)");
        var home = (string?)container["env"]?.AsArray().SingleOrDefault(e => (string)e!["name"]! == "HOME")?["value"];
        var init = pod["initContainers"]!.AsArray().Single()!;

        Assert.True(new Version(int.Parse(version.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(version.Groups[2].Value, CultureInfo.InvariantCulture)) >= new Version(3, 13), "rabbitmq:3.10 and older are end of life");
        Assert.Equal("OnRootMismatch", (string?)pod["securityContext"]!["fsGroupChangePolicy"]);
        Assert.NotNull(home);
        Assert.False(home.StartsWith("/var/lib/rabbitmq/", StringComparison.Ordinal) || home == "/var/lib/rabbitmq", "the cookie must not live on the fsGroup-managed data volume");
        Assert.Contains(container["volumeMounts"]!.AsArray(), m => (string)m!["mountPath"]! == home && (string)m["name"]! != "data");
        Assert.Equal(home, (string?)init["env"]!.AsArray().Single(e => (string)e!["name"]! == "HOME")!["value"]);
        Assert.Contains("umask 0377", (string)init["command"]![2]!, StringComparison.Ordinal);
        Assert.Contains("$HOME/.erlang.cookie", (string)init["command"]![2]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redis_evicts_keys_with_a_ttl_before_the_kernel_kills_it_at_its_memory_limit()
    {
        foreach (var manifests in new[] { await RenderAsync(), await RenderAsync("-f", Path.Combine(Repo.PlatformChart, "values-kind.yaml")) })
        {
            var container = Container(manifests, "platform-redis");
            var args = container["args"]!.AsArray().Select(a => a!.ToString()).ToList();
            var limit = Bytes((string)container["resources"]!["limits"]!["memory"]!);

            Assert.Contains("--maxmemory", args);
            var maxmemory = long.Parse(args[args.IndexOf("--maxmemory") + 1], CultureInfo.InvariantCulture);
            Assert.InRange(maxmemory, limit * 6 / 10, limit * 8 / 10);
            Assert.Equal("volatile-lru", args[args.IndexOf("--maxmemory-policy") + 1]);
        }
    }

    /// <summary>Each way a memory limit may be written, as the values give it (a number of bytes in a values file reaches the chart as a float).</summary>
    [Theory]
    [InlineData("--set", "redis.resources.limits.memory=1.5Gi")]
    [InlineData("--set", "redis.resources.limits.memory=0.5Gi")]
    [InlineData("--set", "redis.resources.limits.memory=.25Gi")]
    [InlineData("--set", "redis.resources.limits.memory=1536Mi")]
    [InlineData("--set", "redis.resources.limits.memory=0.1Gi")]
    [InlineData("--set", "redis.resources.limits.memory=500M")]
    [InlineData("--set", "redis.resources.limits.memory=2.5G")]
    [InlineData("--set", "redis.resources.limits.memory=1e9")]
    [InlineData("--set", "redis.resources.limits.memory=805306368")]
    [InlineData("--set-json", """redis.resources.limits={"memory":1073741824}""")]
    public async Task Redis_maxmemory_is_its_share_of_the_memory_limit_however_the_limit_is_written(string flag, string value)
    {
        var container = Container(await RenderAsync(flag, value), "platform-redis");
        var args = container["args"]!.AsArray().Select(a => a!.ToString()).ToList();
        var limit = KubeletBytes(container["resources"]!["limits"]!["memory"]!.ToString());

        // 0 would be no limit at all: Redis would grow until the kernel kills it at the container's limit.
        Assert.Equal(limit * 75 / 100, long.Parse(args[args.IndexOf("--maxmemory") + 1], CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("0", "0 bytes")]
    [InlineData("0Gi", "0 bytes")]
    [InlineData("0.0Mi", "0 bytes")]
    [InlineData("1", "maxmemory of 0 bytes")]
    [InlineData("lots", "not a memory quantity")]
    [InlineData("512MiB", "not a memory quantity")]
    [InlineData("1500m", "not a memory quantity")]
    [InlineData("9Ei", "more than the 8Pi")]
    public async Task A_memory_limit_that_gives_redis_no_cap_fails_the_render_and_says_why(string limit, string reason)
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => RenderAsync("--set", "redis.resources.limits.memory=" + limit));

        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rabbitmqs_memory_alarm_is_a_share_of_its_container_limit_not_of_the_nodes_ram()
    {
        foreach (var manifests in new[] { await RenderAsync(), await RenderAsync("--set", "rabbitmq.resources.limits.memory=1.5Gi"), await RenderAsync("-f", Path.Combine(Repo.PlatformChart, "values-kind.yaml")) })
        {
            var limit = KubeletBytes(Container(manifests, "platform-rabbitmq")["resources"]!["limits"]!["memory"]!.ToString());
            var settings = RabbitmqConf(manifests);

            // RabbitMQ reads MemTotal from /proc/meminfo, the node's: only the override makes the relative watermark
            // a share of what the container may use.
            Assert.Equal(limit.ToString(CultureInfo.InvariantCulture), settings["total_memory_available_override_value"]);
            Assert.InRange(double.Parse(settings["vm_memory_high_watermark.relative"], CultureInfo.InvariantCulture), 0.3, 0.8);
            Assert.False(settings.ContainsKey("vm_memory_high_watermark.absolute"));
        }

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => RenderAsync("--set", "rabbitmq.resources.limits=null"));
        Assert.Contains("rabbitmq.resources.limits.memory is required", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// With IfNotPresent, a node keeps what a floating tag (7-alpine) meant when it first pulled it: a pod rescheduled
    /// there would run an older server on the newer on-disk data. Every data-tier container names a full version.
    /// </summary>
    [Fact]
    public async Task Data_tier_images_are_pinned_to_a_full_version()
    {
        var manifests = await RenderAsync("--set", "postgresql.readReplicas.replicaCount=1");
        const string Pinned = @"^docker\.io/library/(postgres:\d+\.\d+|redis:\d+\.\d+\.\d+|rabbitmq:\d+\.\d+\.\d+)-alpine$";
        var images = manifests.OfKind("StatefulSet").SelectMany(s => (s["spec"]!["template"]!["spec"]!["initContainers"]?.AsArray() ?? [])
                .Concat(s["spec"]!["template"]!["spec"]!["containers"]!.AsArray())
                .Select(c => (Where: $"{s.Name()}/{c!["name"]}", Image: (string)c!["image"]!)))
            .ToList();

        Assert.Equal(5, images.Count); // the primary, a replica, Redis, and RabbitMQ's init container and server
        Assert.All(images, image => Assert.True(Regex.IsMatch(image.Image, Pinned), $"{image.Where}: {image.Image} floats (postgres:<major>.<minor>, redis and rabbitmq :<major>.<minor>.<patch>)"));
    }

    [Fact]
    public async Task Without_read_replicas_the_services_read_from_the_primary()
    {
        var none = ServiceEnvironment(Deployment(await RenderAsync("--set", "postgresql.readReplicas.replicaCount=0"), "platform-tasks"));
        var some = ServiceEnvironment(Deployment(await RenderAsync(), "platform-tasks"));
        var externalWithoutReadHost = ServiceEnvironment(Deployment(
            await RenderAsync("-f", Path.Combine(Repo.PlatformChart, "values-external-datatier.yaml"), "--set", "externalPostgresql.readHost="), "platform-tasks"));

        Assert.False(none.ContainsKey("ConnectionStrings__PostgresReplica"));
        Assert.False(externalWithoutReadHost.ContainsKey("ConnectionStrings__PostgresReplica"));
        Assert.Equal("platform-postgresql-read", new NpgsqlConnectionStringBuilder(some["ConnectionStrings__PostgresReplica"]).Host);
    }

    [Fact]
    public async Task An_smtp_relay_reaches_auth_as_mail_settings_with_its_credentials_only_from_the_secret()
    {
        var manifests = await RenderAsync("--set", "auth.smtp.host=smtp.example.org", "--set", "auth.smtp.port=465", "--set", "auth.smtp.tls=tls",
            "--set", "auth.smtp.from=Platform <no-reply@example.org>", "--set", "auth.smtp.existingSecret=smtp-credentials",
            "--set", "auth.publicUrl=https://app.example.org", "--set", "auth.requireVerifiedEmail=true");
        var auth = Deployment(manifests, "platform-auth");
        var configuration = Configuration(ServiceEnvironment(auth));

        Assert.Equal("smtp.example.org", configuration["Mail:Host"]);
        Assert.Equal("465", configuration["Mail:Port"]);
        Assert.Equal("Tls", configuration["Mail:Security"]);
        Assert.Equal("Platform <no-reply@example.org>", configuration["Mail:From"]);
        Assert.Equal("https://app.example.org", configuration["Accounts:PublicUrl"]);
        Assert.Equal("true", configuration["Accounts:RequireVerifiedEmail"]);
        var fromSecret = auth["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray()
            .Where(v => v!["name"]!.ToString() is "Mail__Username" or "Mail__Password")
            .Select(v => $"{v!["name"]} {v["valueFrom"]!["secretKeyRef"]!["name"]}/{v["valueFrom"]!["secretKeyRef"]!["key"]}");
        Assert.Equal(["Mail__Username smtp-credentials/username", "Mail__Password smtp-credentials/password"], fromSecret);
        Assert.All(manifests.OfKind("Deployment").Where(d => d.Name() != "platform-auth"),
            other => Assert.False(ServiceEnvironment(other).ContainsKey("Mail__Host")));
    }

    [Fact]
    public async Task Without_an_smtp_relay_auth_gets_no_mail_settings_and_links_point_at_the_issuer()
    {
        var environment = ServiceEnvironment(Deployment(await RenderAsync(), "platform-auth"));

        Assert.DoesNotContain(environment.Keys, name => name.StartsWith("Mail__", StringComparison.Ordinal));
        Assert.Equal(environment["Tokens__Issuer"], environment["Accounts__PublicUrl"]);
    }

    [Fact]
    public async Task The_schema_refuses_an_unknown_smtp_tls_mode()
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => RenderAsync("--set", "auth.smtp.tls=ssl"));
        Assert.Contains("tls", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_password_with_connection_string_metacharacters_reaches_every_client_intact()
    {
        var configuration = Configuration(ServiceEnvironment(Deployment(await RenderAsync(), "platform-auth")));

        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddConfiguration(configuration);
        builder.AddPlatformPostgres("auth");
        await using var app = builder.Build();
        var postgres = new NpgsqlConnectionStringBuilder(app.Services.GetRequiredService<PrimaryDatabase>().ConnectionString);
        var redis = RedisConnection.Options(configuration["ConnectionStrings:Redis"]!, configuration);
        var rabbit = RabbitMqConnection.Factory(configuration["ConnectionStrings:RabbitMq"]!, configuration);

        Assert.Equal(("platform-postgresql", "auth", NastyPassword), (postgres.Host, postgres.Username, postgres.Password));
        Assert.Equal(("platform-redis:6379", NastyPassword), (redis.EndPoints.Single().ToString()!.Replace("Unspecified/", "", StringComparison.Ordinal), redis.Password));
        Assert.Equal(("platform-rabbitmq", "platform", NastyPassword), (rabbit.HostName, rabbit.UserName, rabbit.Password));
    }

    [Fact]
    public async Task A_password_with_connection_string_metacharacters_logs_in_to_real_postgresql_and_redis()
    {
        var environment = ServiceEnvironment(Deployment(await RenderAsync(), "platform-auth"));
        await using var postgres = await LocalPostgres.StartPrimaryAsync(DataTier.WithOffset(26702));
        await postgres.RequirePasswordAsync("auth", NastyPassword);
        environment["ConnectionStrings__Postgres"] = new NpgsqlConnectionStringBuilder(environment["ConnectionStrings__Postgres"]) { Host = "127.0.0.1", Port = postgres.Port }.ConnectionString;
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddConfiguration(Configuration(environment));
        builder.AddPlatformPostgres("postgres");
        await using var app = builder.Build();
        await using (var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
        {
            await using var query = new NpgsqlCommand("SELECT current_user", connection);
            Assert.Equal("auth", await query.ExecuteScalarAsync());
        }

        var redisPort = DataTier.WithOffset(26704);
        using var redisServer = System.Diagnostics.Process.Start("redis-server", ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--requirepass", NastyPassword, "--save", "", "--appendonly", "no"])!;
        try
        {
            var options = RedisConnection.Options(environment["ConnectionStrings__Redis"], Configuration(environment));
            options.EndPoints.Clear();
            options.EndPoints.Add("127.0.0.1", redisPort);
            options.AbortOnConnectFail = false;
            await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
            await Poll.UntilAsync(() => Task.FromResult(redis.IsConnected), TimeSpan.FromSeconds(20), "Redis to accept the password");
            await redis.GetDatabase().PingAsync();
        }
        finally
        {
            redisServer.Kill();
        }
    }

    [Fact]
    public async Task External_stores_can_be_reached_over_tls_with_a_ca_from_a_secret_or_configmap()
    {
        var manifests = await RenderAsync("-f", Path.Combine(Repo.PlatformChart, "values-external-datatier.yaml"),
            "--set", "externalPostgresql.tls.enabled=true", "--set", "externalPostgresql.tls.ca.secretName=db-ca",
            "--set", "externalRedis.tls.enabled=true", "--set", "externalRedis.tls.ca.secretName=", "--set", "externalRedis.tls.ca.configMapName=cache-ca",
            "--set", "externalRabbitmq.tls.enabled=true", "--set", "externalRabbitmq.port=5671", "--set", "externalRabbitmq.tls.ca.secretName=mq-ca");
        var deployment = Deployment(manifests, "platform-files");
        var env = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray();
        var configuration = Configuration(ServiceEnvironment(deployment, ca: TestCaPem));

        Assert.Equal("db-ca", (string?)env.Single(e => (string)e!["name"]! == "Postgres__CaCertificate")!["valueFrom"]!["secretKeyRef"]!["name"]);
        Assert.Equal("cache-ca", (string?)env.Single(e => (string)e!["name"]! == "Redis__CaCertificate")!["valueFrom"]!["configMapKeyRef"]!["name"]);
        Assert.Equal("mq-ca", (string?)env.Single(e => (string)e!["name"]! == "RabbitMq__CaCertificate")!["valueFrom"]!["secretKeyRef"]!["name"]);

        var postgres = PostgresConnectionString.Build(configuration, configuration["ConnectionStrings:Postgres"]!);
        Assert.Equal(SslMode.VerifyFull, postgres.SslMode);
        Assert.Equal(TestCaPem, await File.ReadAllTextAsync(postgres.RootCertificate!));
        var redis = RedisConnection.Options(configuration["ConnectionStrings:Redis"]!, configuration);
        Assert.True(redis.Ssl);
        var rabbit = RabbitMqConnection.Factory(configuration["ConnectionStrings:RabbitMq"]!, configuration);
        Assert.True(rabbit.Ssl.Enabled);
        Assert.Equal(5671, rabbit.Port);
        Assert.NotNull(rabbit.Ssl.CertificateValidationCallback);
    }

    [Fact]
    public async Task The_primary_and_each_replica_prefer_a_node_without_another_postgresql_server()
    {
        var manifests = await RenderAsync("--set", "postgresql.readReplicas.replicaCount=2");

        Assert.Equal(["platform-postgresql-read"], AvoidedOnItsNode(manifests, "platform-postgresql"));
        Assert.Equal(["platform-postgresql", "platform-postgresql-read"], AvoidedOnItsNode(manifests, "platform-postgresql-read"));

        // An affinity of the values' own replaces the default rather than merging into it.
        var own = await RenderAsync("--set-json", """postgresql.readReplicas.affinity={"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"disk","operator":"In","values":["ssd"]}]}]}}}""");
        var affinity = PodTemplate(own, "platform-postgresql-read")["spec"]!["affinity"]!;
        Assert.NotNull(affinity["nodeAffinity"]);
        Assert.Null(affinity["podAntiAffinity"]);
        Assert.Equal(["platform-postgresql-read"], AvoidedOnItsNode(own, "platform-postgresql"));
    }

    [Fact]
    public async Task A_drain_takes_one_read_replica_at_a_time_and_never_waits_on_the_primary()
    {
        var manifests = await RenderAsync("--set", "postgresql.readReplicas.replicaCount=3");
        var budgets = manifests.OfKind("PodDisruptionBudget").ToList();
        var replicaLabels = PodTemplate(manifests, "platform-postgresql-read")["metadata"]!["labels"]!;
        var primaryLabels = PodTemplate(manifests, "platform-postgresql")["metadata"]!["labels"]!;

        var budget = Assert.Single(budgets, b => Selects(b["spec"]!["selector"]!, replicaLabels));
        Assert.Equal(1L, (long)budget["spec"]!["maxUnavailable"]!);
        // A single primary under a budget could never be evicted: every node drain would wait on it.
        Assert.DoesNotContain(budgets, b => Selects(b["spec"]!["selector"]!, primaryLabels));
        Assert.DoesNotContain((await RenderAsync("--set", "postgresql.readReplicas.replicaCount=0")).OfKind("PodDisruptionBudget"),
            b => b.Name() == "platform-postgresql-read");
    }

    [Fact]
    public async Task The_dedicated_nodes_example_keeps_auth_and_the_data_tier_off_the_read_paths_nodes()
    {
        var manifests = await RenderAsync("-f", Path.Combine(Repo.PlatformChart, "values-dedicated-nodes.yaml"));
        var pools = manifests.Where(m => (string?)m["kind"] is "Deployment" or "StatefulSet" or "Job")
            .ToDictionary(m => m.Name(), m => Pool(m["spec"]!["template"]!["spec"]!));

        Assert.Equal("auth", pools["platform-auth"]);
        Assert.All(pools.Where(p => p.Key is "platform-postgresql" or "platform-postgresql-read" or "platform-rabbitmq"), p => Assert.Equal("data", p.Value));
        Assert.Equal(4, pools.Count(p => p.Value != "shared"));
        Assert.Contains("platform-gateway", pools.Keys);
        Assert.Contains("platform-redis", pools.Keys);
        // On the data pool the servers still prefer nodes apart.
        Assert.Equal(["platform-postgresql", "platform-postgresql-read"], AvoidedOnItsNode(manifests, "platform-postgresql-read"));
    }

    private static JsonNode PodTemplate(IReadOnlyList<JsonNode> manifests, string statefulSet) =>
        manifests.OfKind("StatefulSet").Single(s => s.Name() == statefulSet)["spec"]!["template"]!;

    /// <summary>
    /// The StatefulSets, highest weight first, whose pods the preferred anti-affinity of a StatefulSet's pods keeps off
    /// their node: each term's label selector matched against every StatefulSet's pod labels.
    /// </summary>
    private static List<string> AvoidedOnItsNode(IReadOnlyList<JsonNode> manifests, string statefulSet)
    {
        var terms = PodTemplate(manifests, statefulSet)["spec"]!["affinity"]?["podAntiAffinity"]?["preferredDuringSchedulingIgnoredDuringExecution"]?.AsArray() ?? [];
        return [.. terms.OrderByDescending(t => (long)t!["weight"]!)
            .Select(t => t!["podAffinityTerm"]!)
            .Where(term => (string?)term["topologyKey"] == "kubernetes.io/hostname")
            .SelectMany(term => manifests.OfKind("StatefulSet")
                .Where(s => Selects(term["labelSelector"]!, PodTemplate(manifests, s.Name())["metadata"]!["labels"]!))
                .Select(s => s.Name()))];
    }

    private static bool Selects(JsonNode selector, JsonNode labels) =>
        selector["matchExpressions"] is null
        && selector["matchLabels"]!.AsObject().All(label => (string?)labels[label.Key] == (string?)label.Value);

    /// <summary>
    /// Where a pod can run among nodes labelled and tainted platform.example.com/pool=auth or =data and the untainted
    /// rest: the pool it selects, whose taint it must tolerate, or "shared" when it tolerates no pool's taint.
    /// </summary>
    private static string Pool(JsonNode podSpec)
    {
        const string Key = "platform.example.com/pool";
        var tolerated = (podSpec["tolerations"]?.AsArray() ?? [])
            .Where(t => (string?)t!["key"] is null or Key && (string?)t!["effect"] is null or "NoSchedule")
            .Select(t => (string?)t!["operator"] == "Exists" ? "any" : (string)t!["value"]!)
            .ToList();
        if ((string?)podSpec["nodeSelector"]?[Key] is not { } selected)
        {
            return tolerated.Count == 0 ? "shared" : string.Join(",", tolerated);
        }
        Assert.Equal([selected], tolerated);
        return selected;
    }

    /// <summary>`helm template` of the platform chart, its images in a registry as a user must give one (later arguments win).</summary>
    private static Task<IReadOnlyList<JsonNode>> RenderAsync(params string[] arguments) =>
        Helm.TemplateAsync(Repo.PlatformChart, ["--set", "global.imageRegistry=registry.example.com/platform", .. arguments]);

    private static JsonNode Deployment(IReadOnlyList<JsonNode> manifests, string name) => manifests.OfKind("Deployment").Single(d => d.Name() == name);

    private static JsonNode Container(IReadOnlyList<JsonNode> manifests, string statefulSet) =>
        manifests.OfKind("StatefulSet").Single(s => s.Name() == statefulSet)["spec"]!["template"]!["spec"]!["containers"]![0]!;

    private static List<string> ServerArgs(IReadOnlyList<JsonNode> manifests, string statefulSet) =>
        [.. Container(manifests, statefulSet)["args"]!.AsArray().Select(a => a!.ToString())];

    /// <summary>The replicas' server arguments as rendered, max_connections set last (PostgreSQL takes the last).</summary>
    private static List<string> ReplicaArgs(IReadOnlyList<JsonNode> manifests, int maxConnections) =>
        [.. ServerArgs(manifests, "platform-postgresql-read"), "-c", $"max_connections={maxConnections}"];

    /// <summary>A `-c name=value` server setting as PostgreSQL takes it: the last one wins; absent, the server's default.</summary>
    private static int Setting(List<string> args, string name, int fallback) =>
        args.LastOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal)) is { } setting
            ? int.Parse(setting[(name.Length + 1)..], CultureInfo.InvariantCulture)
            : fallback;

    private static string ReplicaScript(IReadOnlyList<JsonNode> manifests, string key) =>
        (string?)manifests.OfKind("ConfigMap").SingleOrDefault(c => c.Name() == "platform-postgresql-read-scripts")?["data"]?[key]
        ?? throw new Xunit.Sdk.XunitException($"no {key} in a platform-postgresql-read-scripts ConfigMap");

    /// <summary>The replicas' scripts ConfigMap as its volume shows it (/scripts); returns the directory.</summary>
    private static string WriteReplicaScripts(IReadOnlyList<JsonNode> manifests, string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        foreach (var script in manifests.OfKind("ConfigMap").Single(c => c.Name() == "platform-postgresql-read-scripts")["data"]!.AsObject())
        {
            File.WriteAllText(Path.Combine(directory, script.Key), (string)script.Value!);
        }
        return directory;
    }

    /// <summary>An executable shell script named <paramref name="name"/> in <paramref name="directory"/>, which it returns.</summary>
    private static string WriteProgram(string directory, string name, string body)
    {
        System.IO.Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return directory;
    }

    /// <summary>
    /// A service container's environment as the kubelet gives it: every password in a Secret is <paramref name="password"/>,
    /// every other key reference <paramref name="ca"/>, and $(NAME) expands a variable defined before it.
    /// </summary>
    private static Dictionary<string, string> ServiceEnvironment(JsonNode deployment, string ca = "", string password = NastyPassword)
    {
        var environment = new Dictionary<string, string>();
        foreach (var variable in deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray())
        {
            var name = (string)variable!["name"]!;
            environment[name] = variable["valueFrom"] is { } from
                ? from["secretKeyRef"] is { } secret && ((string)secret["key"]!).Contains("password", StringComparison.Ordinal) ? password : ca
                : DependentVariable().Replace((string?)variable["value"] ?? "", m => environment.TryGetValue(m.Groups[1].Value, out var value) ? value : m.Value);
        }
        return environment;
    }

    private static IConfiguration Configuration(Dictionary<string, string> environment) =>
        new ConfigurationBuilder().AddInMemoryCollection(environment.Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), (string?)e.Value))).Build();

    /// <summary>A memory quantity in bytes as the kubelet applies it (KubernetesClient's parser; a fraction of a byte rounds up).</summary>
    private static long KubeletBytes(string quantity) => (long)Math.Ceiling(new k8s.Models.ResourceQuantity(quantity).ToDecimal());

    /// <summary>rabbitmq.conf of the broker's ConfigMap, as `key = value` pairs.</summary>
    private static Dictionary<string, string> RabbitmqConf(IReadOnlyList<JsonNode> manifests) =>
        ((string)manifests.OfKind("ConfigMap").Single(c => c.Name() == "platform-rabbitmq-config")["data"]!["rabbitmq.conf"]!)
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith('#'))
            .Select(line => line.Split('=', 2, StringSplitOptions.TrimEntries))
            .ToDictionary(pair => pair[0], pair => pair[1]);

    private static long Bytes(string quantity)
    {
        var match = Regex.Match(quantity, @"^(\d+)(Ki|Mi|Gi)?$");
        var factor = match.Groups[2].Value switch { "Ki" => 1L << 10, "Mi" => 1L << 20, "Gi" => 1L << 30, _ => 1L };
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * factor;
    }

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex DependentVariable();

    /// <summary>
    /// A PostgreSQL primary on this machine (the Debian postgresql package's binaries), set up as the chart's is for
    /// its replicas (WAL for streaming, slots, a small max_slot_wal_keep_size so a slot is quickly lost), and a
    /// replica run by the chart's own scripts for replica 0 of the StatefulSet, as its container would run them. As
    /// root, every server command and script runs as the postgres user.
    /// </summary>
    private sealed class LocalPostgres : IAsyncDisposable
    {
        private const string PrimarySettings = "-c wal_level=replica -c max_wal_senders=10 -c max_replication_slots=10 -c max_slot_wal_keep_size=1MB -c fsync=off";

        private readonly string bin;
        private readonly int port;
        private readonly List<string> started = [];

        private LocalPostgres(string bin, string directory, int port)
        {
            this.bin = bin;
            Directory = directory;
            this.port = port;
        }

        public string Directory { get; }

        public int Port => port;

        private int ReplicaPort => port + 1;

        private string PrimaryData => Path.Combine(Directory, "primary");

        /// <summary>Where the replica's clone-primary.sh marks that it runs (in the pod, on the run emptyDir).</summary>
        public string CloneMark => Path.Combine(Directory, "clone-primary.running");

        /// <summary>Starts a primary; <paramref name="settings"/> ("-c name=value ...") follow the replication ones.</summary>
        public static async Task<LocalPostgres> StartPrimaryAsync(int port, string settings = "")
        {
            var bin = System.IO.Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb"))).Order().LastOrDefault()
                      ?? throw new InvalidOperationException("needs the PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)");
            var directory = Path.Combine(Path.GetTempPath(), $"platform-datatier-chart-{Guid.NewGuid():N}");
            System.IO.Directory.CreateDirectory(directory);
            var servers = new LocalPostgres(bin, directory, port);
            if (Environment.UserName == "root")
            {
                await ShellCommand.RunAsync("chown", ["postgres", directory], null, TimeSpan.FromSeconds(10));
            }
            await servers.RunAsync("initdb", ["-D", servers.PrimaryData, "-U", "postgres", "--auth=trust"]);
            await servers.StartPrimaryAgainAsync(settings);
            await servers.PrimarySqlAsync("CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD 'unused';");
            return servers;
        }

        public Task StartPrimaryAgainAsync(string settings = "") => StartAsync(PrimaryData, port, $"{PrimarySettings} {settings}");

        public Task StopPrimaryAsync() => StopAsync(PrimaryData);

        /// <summary>
        /// Runs the replica container's command, start-replica.sh, with the chart's server arguments (max_connections
        /// set last: the chart's thousands would only cost these servers shared memory). Its end, the image's
        /// entrypoint, is stood in for by one that starts the server in the background on the replica's port.
        /// </summary>
        public async Task<string> StartReplicaContainerAsync(IReadOnlyList<JsonNode> manifests, string data, int maxConnections = 100, int primaryWaitSeconds = 30)
        {
            var image = WriteProgram(Path.Combine(Directory, "image"), "docker-entrypoint.sh", $$"""
                [ "$1" = postgres ] || { echo "not the server: $*" >&2; exit 1; }
                shift
                pg_ctl -D "$PGDATA" -w -t 60 -l "$PGDATA.log" start -o "$* -c port={{ReplicaPort}} -c listen_addresses=127.0.0.1 -c unix_socket_directories={{Directory}}" || { cat "$PGDATA.log"; exit 1; }
                """);
            started.Add(data);
            return (await RunReplicaScriptAsync(manifests, "start-replica.sh", data, ReplicaArgs(manifests, maxConnections), image, primaryWaitSeconds))
                .EnsureSuccess("start-replica.sh").Output;
        }

        /// <summary>What standby-settings.sh adds to the server's arguments for the data directory as it is.</summary>
        public async Task<string> StandbySettingsAsync(IReadOnlyList<JsonNode> manifests, string data, int maxConnections) =>
            (await RunReplicaScriptAsync(manifests, "standby-settings.sh", data, ReplicaArgs(manifests, maxConnections)))
                .EnsureSuccess("standby-settings.sh").StandardOutput.Trim();

        /// <summary>The replica's liveness check, its server answering (it does not listen on 5432 here, as in the pod).</summary>
        public Task<CommandResult> ReplicaAliveAsync(IReadOnlyList<JsonNode> manifests) =>
            RunReplicaScriptAsync(manifests, "replica-alive.sh", Path.Combine(Directory, "replica"), [], WriteProgram(Path.Combine(Directory, "answering"), "pg_isready", "exit 0"));

        public Task StopReplicaAsync(string data) => StopAsync(data);

        /// <summary>A shell script run as the server's user, PGDATA set to <paramref name="data"/>.</summary>
        public Task<string> ShellAsync(string script, string data) =>
            RunAsync("sh", ["-c", script], new Dictionary<string, string> { ["PGDATA"] = data, ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}" });

        public Task<string> PrimarySqlAsync(string sql) => SqlAsync(port, sql);

        public async Task<string> ReplicaSqlAsync(string sql) => (await SqlAsync(ReplicaPort, sql)).Trim();

        /// <summary>A login role that must give its password over TCP (scram-sha-256), where the setup trusts everyone else.</summary>
        public async Task RequirePasswordAsync(string role, string password)
        {
            await PrimarySqlAsync($"CREATE ROLE {role} LOGIN PASSWORD $password${password}$password$;");
            var hba = Path.Combine(PrimaryData, "pg_hba.conf");
            await File.WriteAllTextAsync(hba, $"host all {role} 127.0.0.1/32 scram-sha-256\n" + await File.ReadAllTextAsync(hba));
            await PrimarySqlAsync("SELECT pg_reload_conf();");
        }

        public async Task<string> SlotStatusAsync(string slot) =>
            (await PrimarySqlAsync($"SELECT coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = '{slot}'")).Trim();

        public Task WaitForReplicaAsync(string sql, string expected) =>
            Poll.UntilAsync(async () => (await ShellCommand.RunAsync(Path.Combine(bin, "psql"), PsqlArguments(ReplicaPort, sql), null, TimeSpan.FromSeconds(10))).Output.Trim() == expected,
                TimeSpan.FromSeconds(60), $"the replica to answer {expected} to {sql}");

        /// <summary>Writes and recycles WAL until the primary invalidates the (inactive) slot: what a long-dead replica's slot goes through.</summary>
        public Task InvalidateSlotAsync(string slot) =>
            Poll.UntilAsync(async () =>
            {
                await PrimarySqlAsync("CREATE TABLE IF NOT EXISTS filler (x text); INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 3000); SELECT pg_switch_wal(); CHECKPOINT;");
                return await SlotStatusAsync(slot) == "lost";
            }, TimeSpan.FromSeconds(60), $"slot {slot} to be lost");

        public async ValueTask DisposeAsync()
        {
            foreach (var data in started.Prepend(PrimaryData).Distinct().ToList())
            {
                var (file, line) = AsPostgres(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
                await ShellCommand.RunAsync(file, line, null, TimeSpan.FromSeconds(30));
            }
            System.IO.Directory.Delete(Directory, recursive: true);
        }

        /// <summary>One of the replica's scripts as its container runs it (environment from platform.postgresql.replicaEnv), programs in <paramref name="path"/> first.</summary>
        private async Task<CommandResult> RunReplicaScriptAsync(IReadOnlyList<JsonNode> manifests, string script, string data, IEnumerable<string> arguments, string? path = null, int primaryWaitSeconds = 30)
        {
            var scripts = WriteReplicaScripts(manifests, Path.Combine(Directory, "scripts"));
            var (file, line) = AsPostgres("sh", [Path.Combine(scripts, script), .. arguments]);
            return await ShellCommand.RunAsync(file, line, new Dictionary<string, string>
            {
                ["HOSTNAME"] = "platform-postgresql-read-0",
                ["PGDATA"] = data,
                ["PLATFORM_CLONE_MARK"] = CloneMark,
                ["PLATFORM_PRIMARY_HOST"] = "127.0.0.1",
                ["PLATFORM_PRIMARY_PORT"] = port.ToString(CultureInfo.InvariantCulture),
                ["PLATFORM_PRIMARY_WAIT_SECONDS"] = primaryWaitSeconds.ToString(CultureInfo.InvariantCulture),
                ["PLATFORM_REPLICATION_USER"] = "replicator",
                ["PLATFORM_REPLICATION_PASSWORD"] = "unused",
                ["PATH"] = string.Join(':', new[] { path, bin, Environment.GetEnvironmentVariable("PATH") }.OfType<string>()),
            }, TimeSpan.FromMinutes(2));
        }

        private async Task StopAsync(string data)
        {
            await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
            started.Remove(data);
        }

        private async Task StartAsync(string data, int serverPort, string settings)
        {
            await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-w", "-t", "60", "-l", data + ".log", "start",
                "-o", $"-c port={serverPort} -c listen_addresses=127.0.0.1 -c unix_socket_directories={Directory} {settings}"]);
            started.Add(data);
        }

        private async Task<string> SqlAsync(int serverPort, string sql) =>
            await RunAsync(Path.Combine(bin, "psql"), PsqlArguments(serverPort, sql));

        private static string[] PsqlArguments(int serverPort, string sql) =>
            ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", serverPort.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", "postgres", "-c", sql];

        private async Task<string> RunAsync(string program, string[] arguments, Dictionary<string, string>? environment = null)
        {
            if (!program.Contains('/', StringComparison.Ordinal) && program != "sh")
            {
                program = Path.Combine(bin, program);
            }
            var (file, line) = AsPostgres(program, arguments);
            return (await ShellCommand.RunAsync(file, line, environment, TimeSpan.FromMinutes(2))).EnsureSuccess($"{program} {string.Join(' ', arguments)}").Output;
        }

        /// <summary>PostgreSQL's server programs refuse to run as root.</summary>
        private static (string File, string[] Arguments) AsPostgres(string program, string[] arguments) =>
            Environment.UserName == "root" ? ("runuser", ["-u", "postgres", "--", program, .. arguments]) : (program, arguments);
    }

    /// <summary>A self-signed CA certificate (its key is thrown away): anything X509Certificate2 parses.</summary>
    private const string TestCaPem = """
        -----BEGIN CERTIFICATE-----
        MIIBijCCATGgAwIBAgIUfsst6qPQ288OFNO5IaOBDdf+0AAwCgYIKoZIzj0EAwIw
        GzEZMBcGA1UEAwwQcGxhdGZvcm0tdGVzdC1jYTAeFw0yNjEyMDMyMTIwMTNaFw0z
        NjExMzAyMTIwMTNaMBsxGTAXBgNVBAMMEHBsYXRmb3JtLXRlc3QtY2EwWTATBgcq
        hkjOPQIBBggqhkjOPQMBBwNCAARX/8Kq5l6FeIgFqJYHf5j9xKUlNWU8RGkaSwzf
        Y7on0quaGKk78v7s7tOwK43BYEdrVW+iUWgcXN5Ev0ZwRIG5o1MwUTAdBgNVHQ4E
        FgQUVkYoATIIvmJUqu8+HUo0CmIAcv8wHwYDVR0jBBgwFoAUVkYoATIIvmJUqu8+
        HUo0CmIAcv8wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBnCw70
        xMQqfQ/+IQKopkGVkmO1gtpYfpK/ywBjqqRiRAIgQ/vIwqcZym/gMaW/jWFWMork
        FEy7ruaDAvEJ/r8qHhI=
        -----END CERTIFICATE-----
        """;
}
