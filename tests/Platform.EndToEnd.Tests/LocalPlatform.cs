using System.Globalization;
using Platform.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Platform.EndToEnd.Tests;

/// <summary>
/// The whole platform started exactly as <c>make run</c> starts it (scripts/platform.sh), but on its own
/// ports and run directory, from the build these tests were compiled with.
/// </summary>
public sealed class LocalPlatform : IAsyncLifetime
{
    private const int BasePort = 25500;

    public LocalPlatform()
    {
        Tier = new DataTier("endtoend", BasePort);
        var basePort = Tier.BasePort;
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
            environment[service + "_PORT"] = (basePort + offset).ToString(CultureInfo.InvariantCulture);
        }
        Environment = environment;
        Services = new Dictionary<string, Uri>
        {
            ["gateway"] = new($"http://127.0.0.1:{basePort + 10}"),
            ["auth"] = new($"http://127.0.0.1:{basePort + 11}"),
            ["tasks"] = new($"http://127.0.0.1:{basePort + 12}"),
            ["files"] = new($"http://127.0.0.1:{basePort + 13}"),
        };
    }

    public DataTier Tier { get; }

    public IReadOnlyDictionary<string, string> Environment { get; }

    public IReadOnlyDictionary<string, Uri> Services { get; }

    public string LogFile(string service) => Path.Combine(Tier.RunDirectory, "logs", service + ".log");

    public string KeysDirectory => Path.Combine(Tier.RunDirectory, "keys");

    public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    public Task<CommandResult> PlatformAsync(string command) =>
        ShellCommand.RunAsync("bash", [RepoPaths.Script("platform.sh"), command], Environment, TimeSpan.FromMinutes(5));

    public async Task InitializeAsync()
    {
        (await PlatformAsync("up")).EnsureSuccess("platform.sh up");
        await Tier.LoadConnectionStringsAsync();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        (await PlatformAsync("down")).EnsureSuccess("platform.sh down");
    }
}

[CollectionDefinition(Name)]
public sealed class LocalPlatformCollection : ICollectionFixture<LocalPlatform>
{
    public const string Name = "local platform";
}
