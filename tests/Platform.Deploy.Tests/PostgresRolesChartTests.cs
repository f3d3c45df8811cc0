using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

namespace Platform.Deploy.Tests;

/// <summary>
/// postgresql.serviceRoles: auth, tasks and files each connect to PostgreSQL as a role of their own, named after their
/// database, with a password of their own; only the migration Jobs connect as the administrator, and each is told
/// which role to create and with what password. A breached service then holds no credential to another's data.
/// </summary>
public sealed class PostgresRolesChartTests
{
    private static readonly string[] DataServices = ["auth", "tasks", "files"];

    private static readonly string[] Pushed = ["--set", "global.imageRegistry=registry.example.com/platform"];

    [Fact]
    public async Task Each_service_connects_as_its_own_role_with_its_own_password_and_never_gets_the_administrators()
    {
        var manifests = await RenderAsync();

        foreach (var service in DataServices)
        {
            var deployment = Deployment(manifests, service);
            Assert.Equal(service, Username(deployment, "ConnectionStrings__Postgres"));
            Assert.Equal(service, Username(deployment, "ConnectionStrings__PostgresReplica"));
            Assert.Equal($"platform-postgresql-roles/{service}-password", SecretKey(deployment, "Postgres__Password"));
            Assert.Null(Variable(deployment, "Postgres__ServiceRole"));
            Assert.Null(Variable(deployment, "Postgres__ServiceRolePassword"));
        }
        Assert.All(manifests.OfKind("Deployment"), deployment =>
            Assert.DoesNotContain("platform-postgresql/password", SecretKeys(deployment)));
    }

    [Theory]
    [InlineData(false, "-migrate-install")]
    [InlineData(true, "-migrate")]
    public async Task Each_migration_job_connects_as_the_administrator_and_is_given_its_services_role_and_password(bool upgrade, string job)
    {
        var manifests = await RenderAsync(upgrade ? ["--is-upgrade"] : []);

        foreach (var service in DataServices)
        {
            var migrate = manifests.OfKind("Job").Single(j => j.Name() == $"platform-{service}{job}");
            Assert.Equal("platform", Username(migrate, "ConnectionStrings__Postgres"));
            Assert.Equal("platform-postgresql/password", SecretKey(migrate, "Postgres__Password"));
            Assert.Equal(service, (string?)Variable(migrate, "Postgres__ServiceRole")?["value"]);
            Assert.Equal($"platform-postgresql-roles/{service}-password", SecretKey(migrate, "Postgres__ServiceRolePassword"));
        }
    }

    /// <summary>
    /// Each role may hold what its service's pods can open at most — its pods at the plan's most, and in a rollout at
    /// that count its 25 % surge starting and as many old pods draining, each with its pool and the outbox listener —
    /// and no more: a service scaled by hand past its plan is refused connections instead of taking the others' share,
    /// which max_connections holds for each beside the reserved connections.
    /// </summary>
    [Theory]
    [InlineData(true, "132")]     // the policy's 8 pods + 2 starting + 2 draining, × (10 + 1)
    [InlineData(false, "55")]     // 3 pods + 1 starting + 1 draining, × (10 + 1)
    public async Task Each_migration_job_sets_its_roles_connection_limit_from_the_plan_and_none_when_asked(bool scalingPolicy, string tasksLimit)
    {
        string[] plan = ["--set", $"scalingPolicy.create={scalingPolicy}", "--set", "scalingPolicy.services.tasks.maxReplicas=8",
            "--set", "tasks.replicaCount=3", "--set", "postgresql.maxPoolSize.tasks=10"];

        var manifests = await RenderAsync([.. plan, "--is-upgrade"]);

        var migrate = manifests.OfKind("Job").Single(j => j.Name() == "platform-tasks-migrate");
        Assert.Equal(tasksLimit, (string?)Variable(migrate, "Postgres__ServiceRoleConnectionLimit")?["value"]);
        var limits = DataServices.Select(service => int.Parse((string)Variable(manifests.OfKind("Job").Single(j => j.Name() == $"platform-{service}-migrate"),
            "Postgres__ServiceRoleConnectionLimit")!["value"]!, CultureInfo.InvariantCulture)).ToList();
        Assert.All(limits, limit => Assert.True(limit > 0));
        Assert.Equal(MaxConnections(manifests) - 60, limits.Sum()); // the reserved connections (postgresql.reservedConnections) on top

        var unlimited = await RenderAsync([.. plan, "--is-upgrade", "--set", "postgresql.serviceRoles.limitConnections=false"]);
        Assert.All(unlimited.OfKind("Job").Where(j => j.Name().EndsWith("-migrate", StringComparison.Ordinal)), job =>
            Assert.Equal("-1", (string?)Variable(job, "Postgres__ServiceRoleConnectionLimit")?["value"]));
    }

    /// <summary>
    /// The role passwords are generated into a Secret of their own, made as a hook before the migration Jobs: an upgrade
    /// runs its pre-upgrade Jobs before it applies any other object, so keys added to the administrator's ordinary
    /// Secret would not exist yet when the Jobs need them.
    /// </summary>
    [Fact]
    public async Task The_role_passwords_are_generated_into_a_secret_that_exists_before_the_migration_jobs_of_an_install_or_upgrade()
    {
        var manifests = await RenderAsync("--is-upgrade");

        var roles = manifests.OfKind("Secret").Single(s => s.Name() == "platform-postgresql-roles");
        var passwords = DataServices.Select(service => Encoding.UTF8.GetString(Convert.FromBase64String((string)roles["data"]![$"{service}-password"]!))).ToList();
        Assert.Equal(DataServices.Select(s => $"{s}-password"), roles["data"]!.AsObject().Select(key => key.Key));
        Assert.All(passwords, password => Assert.Equal(32, password.Length));
        Assert.Equal(3, passwords.Distinct().Count());
        Assert.Equal("pre-install,pre-upgrade", Hook(roles));
        var jobs = manifests.OfKind("Job").Where(j => j.Name().Contains("-migrate", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, jobs.Count);
        Assert.All(jobs, job =>
        {
            Assert.Equal("pre-upgrade", Hook(job));
            Assert.True(HookWeight(roles) < HookWeight(job), $"{job.Name()} may run before the Secret it reads exists");
        });
        Assert.Equal(["password", "replication-password"], Keys(manifests.OfKind("Secret").Single(s => s.Name() == "platform-postgresql")));
    }

    [Fact]
    public async Task Without_service_roles_every_service_connects_as_the_administrator_as_before()
    {
        var manifests = await RenderAsync("--set", "postgresql.serviceRoles.enabled=false");

        foreach (var service in DataServices)
        {
            var deployment = Deployment(manifests, service);
            Assert.Equal("platform", Username(deployment, "ConnectionStrings__Postgres"));
            Assert.Equal("platform", Username(deployment, "ConnectionStrings__PostgresReplica"));
            Assert.Equal("platform-postgresql/password", SecretKey(deployment, "Postgres__Password"));
            var migrate = manifests.OfKind("Job").Single(j => j.Name() == $"platform-{service}-migrate-install");
            Assert.Equal("platform-postgresql/password", SecretKey(migrate, "Postgres__Password"));
            Assert.Null(Variable(migrate, "Postgres__ServiceRole"));
            Assert.Null(Variable(migrate, "Postgres__ServiceRolePassword"));
        }
        Assert.DoesNotContain(manifests.OfKind("Secret"), s => s.Name() == "platform-postgresql-roles");
    }

    public static TheoryData<string, string, string[]> ExistingSecrets() => new()
    {
        { "managed-db", "admin-password", ["-f", Path.Combine(Repo.PlatformChart, "values-external-datatier.yaml"),
            "--set", "externalPostgresql.existingSecret=managed-db", "--set", "externalPostgresql.passwordKey=admin-password"] },
        { "gitops-db", "password", ["--set", "postgresql.auth.existingSecret=gitops-db"] },
    };

    [Theory]
    [MemberData(nameof(ExistingSecrets))]
    public async Task With_an_existing_secret_the_role_passwords_are_keys_of_it_beside_the_administrators(string secret, string adminKey, string[] arguments)
    {
        var manifests = await RenderAsync(arguments);

        foreach (var service in DataServices)
        {
            var deployment = Deployment(manifests, service);
            Assert.Equal(service, Username(deployment, "ConnectionStrings__Postgres"));
            Assert.Equal($"{secret}/{service}-password", SecretKey(deployment, "Postgres__Password"));
            Assert.DoesNotContain($"{secret}/{adminKey}", SecretKeys(deployment));
            var migrate = manifests.OfKind("Job").Single(j => j.Name().StartsWith($"platform-{service}-migrate", StringComparison.Ordinal));
            Assert.Equal("platform", Username(migrate, "ConnectionStrings__Postgres"));
            Assert.Equal($"{secret}/{adminKey}", SecretKey(migrate, "Postgres__Password"));
            Assert.Equal($"{secret}/{service}-password", SecretKey(migrate, "Postgres__ServiceRolePassword"));
        }
        Assert.DoesNotContain(manifests.OfKind("Secret"), s => s.Name().StartsWith("platform-postgresql", StringComparison.Ordinal));
    }

    /// <summary>A migration Job would set the administrator's own password to the role's, locking the next one out.</summary>
    [Theory]
    [InlineData("postgresql.auth.username", "tasks")]
    [InlineData("postgresql.auth.replicationUsername", "files")]
    public async Task A_user_of_the_chart_named_like_a_services_role_fails_the_render(string value, string name)
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => RenderAsync("--set", $"{value}={name}"));
        Assert.Contains($"\"{name}\" is also the name of a service's role", refused.Message, StringComparison.Ordinal);

        await RenderAsync("--set", $"{value}={name}", "--set", "postgresql.serviceRoles.enabled=false");
    }

    private static Task<IReadOnlyList<JsonNode>> RenderAsync(params string[] arguments) =>
        Helm.TemplateAsync(Repo.PlatformChart, [.. Pushed, .. arguments]);

    /// <summary>The primary's max_connections, from its server arguments.</summary>
    private static int MaxConnections(IReadOnlyList<JsonNode> manifests) =>
        manifests.OfKind("StatefulSet").Single(s => s.Name() == "platform-postgresql")["spec"]!["template"]!["spec"]!["containers"]![0]!["args"]!.AsArray()
            .Select(a => (string)a!).Where(a => a.StartsWith("max_connections=", StringComparison.Ordinal))
            .Select(a => int.Parse(a["max_connections=".Length..], CultureInfo.InvariantCulture)).Single();

    private static JsonNode Deployment(IReadOnlyList<JsonNode> manifests, string service) =>
        manifests.OfKind("Deployment").Single(d => d.Name() == $"platform-{service}");

    private static IEnumerable<JsonNode> Env(JsonNode workload) =>
        workload["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray().Select(v => v!);

    private static JsonNode? Variable(JsonNode workload, string name) => Env(workload).SingleOrDefault(v => (string?)v["name"] == name);

    private static string Username(JsonNode workload, string name) =>
        new NpgsqlConnectionStringBuilder((string)Variable(workload, name)!["value"]!).Username!;

    /// <summary>`secret/key` of the variable's secretKeyRef.</summary>
    private static string? SecretKey(JsonNode workload, string name) =>
        Variable(workload, name)?["valueFrom"]?["secretKeyRef"] is { } reference ? $"{reference["name"]}/{reference["key"]}" : null;

    /// <summary>`secret/key` of every secretKeyRef of the workload's first container.</summary>
    private static List<string> SecretKeys(JsonNode workload) =>
        [.. Env(workload).Select(v => v["valueFrom"]?["secretKeyRef"]).OfType<JsonNode>().Select(r => $"{r["name"]}/{r["key"]}")];

    private static string? Hook(JsonNode manifest) => (string?)manifest["metadata"]!["annotations"]?["helm.sh/hook"];

    private static int HookWeight(JsonNode manifest) =>
        int.Parse((string?)manifest["metadata"]!["annotations"]?["helm.sh/hook-weight"] ?? "0", CultureInfo.InvariantCulture);

    private static List<string> Keys(JsonNode secret) => [.. secret["data"]!.AsObject().Select(entry => entry.Key)];
}
