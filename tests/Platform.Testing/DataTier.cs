namespace Platform.Testing;

/// <summary>
/// A private data tier (PostgreSQL primary and replica, Redis, RabbitMQ) started by scripts/datatier.sh
/// as local processes, on a block of four ports starting at <c>basePort</c> and in its own run directory,
/// so test assemblies never collide with each other or with a running <c>make run</c>.
/// </summary>
public sealed class DataTier
{
    public const string Primary = "primary";
    public const string Replica = "replica";
    public const string Redis = "redis";
    public const string RabbitMq = "rabbitmq";

    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(5);

    public DataTier(string name, int basePort)
    {
        basePort = WithOffset(basePort);
        BasePort = basePort;
        RunDirectory = RepoPaths.RunDirectory(name);
        Environment = new Dictionary<string, string>
        {
            ["PLATFORM_RUN_DIR"] = RunDirectory,
            ["PG_PORT"] = basePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PG_REPLICA_PORT"] = (basePort + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["REDIS_PORT"] = (basePort + 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_PORT"] = (basePort + 3).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PLATFORM_DATATIER_FAST"] = "1",
        };
    }

    public string RunDirectory { get; }

    /// <summary>The first port of this tier's block, after <see cref="WithOffset"/>.</summary>
    public int BasePort { get; }

    /// <summary>
    /// Shifts a port block by PLATFORM_TEST_PORT_OFFSET (0–85), so two checkouts of the repository can run
    /// their suites at once. A tier occupies base..base+13 (the end-to-end suite's services included) plus
    /// RabbitMQ's ports 1000–3000 below its AMQP port: checkouts running at the same time need offsets at least
    /// 14 apart (e.g. 0, 40 and 70), and blocks 100 apart stay apart under any offset below 86.
    /// </summary>
    public static int WithOffset(int port)
    {
        var configured = System.Environment.GetEnvironmentVariable("PLATFORM_TEST_PORT_OFFSET");
        if (string.IsNullOrEmpty(configured))
        {
            return port;
        }
        var offset = int.Parse(configured, System.Globalization.CultureInfo.InvariantCulture);
        return offset is >= 0 and <= 85 ? port + offset : throw new InvalidOperationException("PLATFORM_TEST_PORT_OFFSET must be between 0 and 85.");
    }

    /// <summary>The variables that point scripts/datatier.sh (and scripts/platform.sh) at this tier.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    public string PostgresPrimary { get; private set; } = "";

    public string PostgresReplica { get; private set; } = "";

    public string RedisConnectionString { get; private set; } = "";

    public string RabbitMqUri { get; private set; } = "";

    public async Task UpAsync(params string[] components)
    {
        await RunAsync("up", components);
        await LoadConnectionStringsAsync();
    }

    /// <summary>Reads the connection strings of a tier that something else (scripts/platform.sh) started.</summary>
    public async Task LoadConnectionStringsAsync()
    {
        var variables = ParseEnv((await RunAsync("env", [])).Output);
        PostgresPrimary = variables["PLATFORM_PG_PRIMARY"];
        PostgresReplica = variables["PLATFORM_PG_REPLICA"];
        RedisConnectionString = variables["PLATFORM_REDIS"];
        RabbitMqUri = variables["PLATFORM_RABBITMQ"];
        postgresRolePasswords = variables.Where(v => v.Key.StartsWith(RolePasswordPrefix, StringComparison.Ordinal))
            .ToDictionary(v => v.Key[RolePasswordPrefix.Length..].ToLowerInvariant(), v => v.Value);
    }

    private const string RolePasswordPrefix = "PLATFORM_PG_PASSWORD_";
    private Dictionary<string, string> postgresRolePasswords = [];

    /// <summary>The password of the PostgreSQL role a service runs as under scripts/platform.sh.</summary>
    public string PostgresRolePassword(string service) => postgresRolePasswords[service];

    /// <summary>What a service needs to reach this tier, with its own database.</summary>
    public Dictionary<string, string?> ServiceSettings(string database) => new()
    {
        ["ConnectionStrings:Postgres"] = PostgresPrimary,
        ["ConnectionStrings:PostgresReplica"] = PostgresReplica,
        ["ConnectionStrings:Redis"] = RedisConnectionString,
        ["ConnectionStrings:RabbitMq"] = RabbitMqUri,
        ["Postgres:Database"] = database,
    };

    /// <summary>Stops servers; the connections this process pooled to them are dead, and a test must not be handed one.</summary>
    public async Task DownAsync(params string[] components)
    {
        await RunAsync("down", components);
        Npgsql.NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Runs statements on the primary's maintenance database, one by one: creating and dropping a test's own databases.</summary>
    public async Task OnServerAsync(params string[] statements)
    {
        var maintenance = new Npgsql.NpgsqlConnectionStringBuilder(PostgresPrimary) { Database = "postgres", Pooling = false };
        await using var connection = new Npgsql.NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync();
        foreach (var sql in statements)
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private async Task<CommandResult> RunAsync(string command, string[] components) =>
        (await ShellCommand.RunAsync("bash", [RepoPaths.Script("datatier.sh"), command, .. components], Environment, ScriptTimeout))
            .EnsureSuccess($"datatier.sh {command} {string.Join(' ', components)}");

    /// <summary>Parses the script's <c>NAME='value'</c> lines.</summary>
    public static Dictionary<string, string> ParseEnv(string output)
    {
        var variables = new Dictionary<string, string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                variables[line[..equals]] = line[(equals + 1)..].Trim('\'');
            }
        }
        return variables;
    }
}
