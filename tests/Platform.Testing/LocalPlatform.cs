using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace Platform.Testing;

/// <summary>
/// The whole platform started exactly as <c>make run</c> starts it (scripts/platform.sh), but on its own
/// ports and run directory, from the build the tests were compiled with. Services listen on the tier's
/// base port + 10 (gateway), + 11 (auth), + 12 (tasks), + 13 (files), and auth and tasks for the gateway (HTTP/2 only) on + 14 and + 15; its SMTP server on + 9 (<see cref="MailSink"/>).
/// </summary>
public class LocalPlatform : IAsyncDisposable
{
    /// <summary>
    /// The gateway's rate limits made generous for tests that sign up many users from one address; tests of
    /// the limits themselves set their own.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> GenerousRateLimits = new Dictionary<string, string>
    {
        ["RateLimiting__Policies__register__Limit"] = "100000",
        ["RateLimiting__Policies__login__Limit"] = "100000",
        ["RateLimiting__Policies__refresh__Limit"] = "100000",
        ["RateLimiting__Policies__account-mail__Limit"] = "100000",
        ["RateLimiting__Policies__account-mail-user__Limit"] = "100000",
    };

    public LocalPlatform(string name, int basePort, IReadOnlyDictionary<string, string>? settings = null)
    {
        Tier = new DataTier(name, basePort);
        var port = Tier.BasePort;
        var environment = new Dictionary<string, string>(Tier.Environment)
        {
            ["PLATFORM_SKIP_BUILD"] = "1",
#if DEBUG
            ["PLATFORM_CONFIGURATION"] = "Debug",
#else
            ["PLATFORM_CONFIGURATION"] = "Release",
#endif
            ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
        };
        foreach (var (service, offset) in new[] { ("GATEWAY", 10), ("AUTH", 11), ("TASKS", 12), ("FILES", 13) })
        {
            environment[service + "_PORT"] = (port + offset).ToString(CultureInfo.InvariantCulture);
        }
        environment["SMTP_PORT"] = (port + 9).ToString(CultureInfo.InvariantCulture);
        environment["AUTH_H2C_PORT"] = (port + 14).ToString(CultureInfo.InvariantCulture);
        environment["TASKS_H2C_PORT"] = (port + 15).ToString(CultureInfo.InvariantCulture);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        Environment = environment;
        Mailbox = new Mailbox(Path.Combine(Tier.RunDirectory, "mail"));
        Services = new Dictionary<string, Uri>
        {
            ["gateway"] = new($"http://127.0.0.1:{port + 10}"),
            ["auth"] = new($"http://127.0.0.1:{port + 11}"),
            ["tasks"] = new($"http://127.0.0.1:{port + 12}"),
            ["files"] = new($"http://127.0.0.1:{port + 13}"),
        };
        var http2 = environment.GetValueOrDefault("PLATFORM_UPSTREAM_HTTP2") != "0";
        GatewayUpstreams = new Dictionary<string, Uri>
        {
            ["auth"] = http2 ? new($"http://127.0.0.1:{port + 14}") : Services["auth"],
            ["tasks"] = http2 ? new($"http://127.0.0.1:{port + 15}") : Services["tasks"],
            ["files"] = Services["files"],
        };
    }

    public DataTier Tier { get; }

    /// <summary>The maildir that the platform's SMTP server (started by scripts/platform.sh) delivers into.</summary>
    public Mailbox Mailbox { get; }

    public IReadOnlyDictionary<string, string> Environment { get; }

    public IReadOnlyDictionary<string, Uri> Services { get; }

    /// <summary>Where the gateway reaches each upstream: auth and tasks on their HTTP/2-only ports (unless PLATFORM_UPSTREAM_HTTP2=0), files as anyone does.</summary>
    public IReadOnlyDictionary<string, Uri> GatewayUpstreams { get; }

    /// <summary>The issuer every token of this platform carries (scripts/platform.sh: the gateway's own address).</summary>
    public string Issuer => $"http://localhost:{Services["gateway"].Port}";

    public string LogFile(string service) => Path.Combine(Tier.RunDirectory, "logs", service + ".log");

    public string KeysDirectory => Path.Combine(Tier.RunDirectory, "keys");

    public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    private ApiContract? contract;

    /// <summary>The process id of a running service, from the pid file scripts/platform.sh keeps.</summary>
    public int ProcessId(string service) =>
        int.Parse(File.ReadAllText(Path.Combine(Tier.RunDirectory, "pids", service + ".pid")).Trim(), CultureInfo.InvariantCulture);

    public Task<CommandResult> PlatformAsync(string command) =>
        ShellCommand.RunAsync("bash", [RepoPaths.Script("platform.sh"), command], Environment, TimeSpan.FromMinutes(5));

    /// <summary>The gateway's merged document, once it has assembled it from every service's.</summary>
    public async Task<ApiContract> ContractAsync()
    {
        if (contract is null)
        {
            var json = await Poll.UntilAsync(async () =>
                {
                    using var response = await Client.GetAsync(new Uri(Services["gateway"], "/api/openapi.json"));
                    return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : null;
                },
                text => text is not null, TimeSpan.FromSeconds(30), "the gateway to publish its merged API document");
            contract = new ApiContract(JsonNode.Parse(json!)!.AsObject());
        }
        return contract;
    }

    /// <summary>A client of the gateway whose every answer is checked against the document.</summary>
    public async Task<(HttpClient Http, ContractCheckingHandler Checker)> CheckedClientAsync()
    {
        var checker = new ContractCheckingHandler(await ContractAsync());
        return (new HttpClient(checker) { BaseAddress = Services["gateway"], Timeout = TimeSpan.FromSeconds(30) }, checker);
    }

    public async Task StartAsync()
    {
        // The services append to their logs (a restart within a run keeps what came before), and the platform suites
        // log every request: over a few runs the reliability tier's gateway.log grew past 700 MB. Each run starts them empty.
        foreach (var service in Services.Keys)
        {
            if (File.Exists(LogFile(service)))
            {
                File.WriteAllBytes(LogFile(service), []);
            }
        }
        (await PlatformAsync("up")).EnsureSuccess("platform.sh up");
        await Tier.LoadConnectionStringsAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        (await PlatformAsync("down")).EnsureSuccess("platform.sh down");
        GC.SuppressFinalize(this);
    }
}
