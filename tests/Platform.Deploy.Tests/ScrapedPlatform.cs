using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Platform.Deploy.Tests;

/// <summary>
/// The whole platform started as <c>make run</c> starts it (scripts/platform.sh), on this suite's own ports, then
/// driven through the gateway the way the dashboards' panels assume traffic looks, so each service's /metrics
/// carries the series a cluster would show.
/// </summary>
public sealed class ScrapedPlatform : IAsyncLifetime
{
    private const int BasePort = 26100;

    public ScrapedPlatform()
    {
        Tier = new DataTier("deploy", BasePort);
        var environment = new Dictionary<string, string>(Tier.Environment)
        {
            ["PLATFORM_SKIP_BUILD"] = "1",
#if DEBUG
            ["PLATFORM_CONFIGURATION"] = "Debug",
#else
            ["PLATFORM_CONFIGURATION"] = "Release",
#endif
        };
        var services = new Dictionary<string, Uri>();
        foreach (var (service, offset) in new[] { ("gateway", 10), ("auth", 11), ("tasks", 12), ("files", 13) })
        {
            var port = (Tier.BasePort + offset).ToString(CultureInfo.InvariantCulture);
            environment[service.ToUpperInvariant() + "_PORT"] = port;
            services[service] = new Uri($"http://127.0.0.1:{port}");
        }
        // Files keeps its uploads in a content directory, deleted content leaving at once, so the removal pass's
        // series exist too (a platform with content in PostgreSQL exports the same series otherwise).
        environment["Files__ContentDirectory"] = Path.Combine(Tier.RunDirectory, "files-content");
        environment["Files__ContentRemovalDelaySeconds"] = "0";
        environment["AUTH_H2C_PORT"] = (Tier.BasePort + 14).ToString(CultureInfo.InvariantCulture);
        environment["TASKS_H2C_PORT"] = (Tier.BasePort + 15).ToString(CultureInfo.InvariantCulture);
        Environment = environment;
        Services = services;
    }

    public DataTier Tier { get; }

    public IReadOnlyDictionary<string, string> Environment { get; }

    public IReadOnlyDictionary<string, Uri> Services { get; }

    public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        (await PlatformAsync("up")).EnsureSuccess("platform.sh up");
        await Tier.LoadConnectionStringsAsync();
        await DriveTrafficAsync();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        (await PlatformAsync("down")).EnsureSuccess("platform.sh down");
    }

    /// <summary>Every metric name (the series' names, not the # TYPE lines) each service exposes now.</summary>
    public async Task<HashSet<string>> ScrapeMetricNamesAsync()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in Services.Values)
        {
            var text = await Client.GetStringAsync(new Uri(service, "/metrics"));
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }
                var end = line.IndexOfAny(['{', ' ']);
                names.Add(end < 0 ? line : line[..end]);
            }
        }
        return names;
    }

    private Task<CommandResult> PlatformAsync(string command) =>
        ShellCommand.RunAsync("bash", [RepoPaths.Script("platform.sh"), command], Environment, TimeSpan.FromMinutes(5));

    /// <summary>A user's session through the gateway (login, tasks read twice for the cache, a file up, down and deleted) and refused tokens.</summary>
    private async Task DriveTrafficAsync()
    {
        using var gateway = new HttpClient { BaseAddress = Services["gateway"], Timeout = TimeSpan.FromSeconds(30) };
        var email = $"deploy-{Guid.NewGuid():N}@example.org";
        const string password = "correct-Horse-battery-9";
        (await gateway.PostAsJsonAsync("/api/auth/register", new { email, password })).EnsureSuccessStatusCode();
        using (await gateway.PostAsJsonAsync("/api/auth/login", new { email, password = "wrong-Password-0" }))
        {
        }
        using var login = await gateway.PostAsJsonAsync("/api/auth/login", new { email, password });
        var token = (await login.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
        gateway.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var created = await gateway.PostAsJsonAsync("/api/tasks", new { title = "scraped" });
        var location = created.EnsureSuccessStatusCode().Headers.Location!;
        for (var read = 0; read < 2; read++)
        {
            (await gateway.GetAsync(location)).EnsureSuccessStatusCode();
            (await gateway.GetAsync("/api/tasks")).EnsureSuccessStatusCode();
        }
        using var upload = await gateway.PostAsync("/api/files?name=scraped.txt", new StringContent("metrics"));
        var file = (await upload.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        (await gateway.GetAsync($"/api/files/{file}/content")).EnsureSuccessStatusCode();
        (await gateway.GetAsync("/api/files")).EnsureSuccessStatusCode();
        (await gateway.DeleteAsync($"/api/files/{file}")).EnsureSuccessStatusCode();

        foreach (var service in Services.Values)
        {
            using var refused = new HttpRequestMessage(HttpMethod.Get, new Uri(service, service == Services["auth"] ? "/api/auth/me" : service == Services["files"] ? "/api/files" : "/api/tasks"));
            refused.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
            using (await Client.SendAsync(refused))
            {
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ScrapedPlatformCollection : ICollectionFixture<ScrapedPlatform>
{
    public const string Name = "scraped platform";
}
