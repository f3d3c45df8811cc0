using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Operator.Tests.Emulator;
using Platform.Testing;

namespace Platform.Operator.Tests.Deployed;

/// <summary>
/// Auth pods of the platform chart's auth Deployment, as real Platform.Auth processes: each listens on its own
/// loopback address at the Deployment's http port (as a pod on its own IP would), and appears in the emulator as
/// a Running Pod with that podIP and the Deployment's pod labels. This plays the kubelet's part: whenever the
/// operator's Secret changes, its keyset.json is projected into every pod's key directory (replaced atomically,
/// as the kubelet swaps a Secret volume), and each process picks it up as in a cluster.
/// </summary>
public sealed class AuthPods : IAsyncDisposable
{
    private readonly List<(string Name, Uri Address, string KeysDirectory, DotnetProcess Process)> pods;
    private readonly CancellationTokenSource stop = new();
    private readonly Task projection;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(2) };

    private AuthPods(List<(string, Uri, string, DotnetProcess)> pods, DeployedOperator deployed)
    {
        this.pods = pods;
        projection = ProjectAsync(deployed, stop.Token);
    }

    public IEnumerable<string> Names => pods.Select(p => p.Name);

    public static AuthPods Start(DeployedOperator deployed, int count)
    {
        var deployment = deployed.Platform.OfKind("Deployment").Single(d => d["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/name"]?.GetValue<string>() == "auth");
        var template = deployment["spec"]!["template"]!;
        var port = template["spec"]!["containers"]!.AsArray().SelectMany(c => c!["ports"]!.AsArray()).Single(p => p!["name"]!.GetValue<string>() == "http")!["containerPort"]!.GetValue<long>();
        // Distinct per checkout (PLATFORM_TEST_PORT_OFFSET), since the port is the chart's.
        var subnet = 100 + DataTier.WithOffset(0);
        var started = new List<(string, Uri, string, DotnetProcess)>();
        for (var i = 1; i <= count; i++)
        {
            var name = $"{deployment.Name()}-{i}";
            var ip = $"127.0.{subnet}.{i}";
            var keys = System.IO.Directory.CreateDirectory(Path.Combine(deployed.Directory, name, "keys")).FullName;
            var environment = new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = $"http://{ip}:{port}",
                ["Keys__Directory"] = keys,
                ["Keys__PollSeconds"] = "1",
                ["Tokens__Issuer"] = "http://platform.test",
                // The keyset path needs no data tier; these only have to be well-formed.
                ["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=9;Username=auth;Password=unused",
                ["ConnectionStrings__PostgresReplica"] = "Host=127.0.0.1;Port=9;Username=auth;Password=unused",
                ["ConnectionStrings__Redis"] = "127.0.0.1:9,abortConnect=false",
                ["ConnectionStrings__RabbitMq"] = "amqp://guest:guest@127.0.0.1:9/",
                ["Postgres__Database"] = "auth",
                ["Logging__LogLevel__Default"] = "Warning",
            };
            started.Add((name, new Uri($"http://{ip}:{port}"), keys,
                DotnetProcess.Start(RepoPaths.Assembly("services", "Platform.Auth"), [], environment, Path.Combine(deployed.Directory, name, "auth.log"))));
            deployed.Emulator.Put(EmulatorClient.Pods, new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = template["metadata"]!["labels"]!.DeepClone() },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "auth" }) },
                ["status"] = new JsonObject { ["phase"] = "Running", ["podIP"] = ip },
            });
        }
        return new AuthPods(started, deployed);
    }

    /// <summary>Each pod's GET /internal/keyset (null while it does not answer).</summary>
    public async Task<IReadOnlyList<JsonElement?>> KeysetsAsync() =>
        await Task.WhenAll(pods.Select(async pod =>
        {
            try
            {
                return (JsonElement?)await http.GetFromJsonAsync<JsonElement>(new Uri(pod.Address, "/internal/keyset"));
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                return null;
            }
        }));

    /// <summary>True when every pod answers and <paramref name="loaded"/> holds for its report.</summary>
    public async Task<bool> AllAsync(Func<JsonElement, bool> loaded) => (await KeysetsAsync()).All(k => k is { } report && loaded(report));

    public string Diagnostics() => string.Join('\n', pods.Select(p => $"{p.Name} log:\n{p.Process.Tail(10)}"));

    private async Task ProjectAsync(DeployedOperator deployed, CancellationToken cancellationToken)
    {
        string? projected = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var secret = deployed.Emulator.Find(EmulatorClient.Secrets, deployed.SecretName);
            var version = secret?["metadata"]!["resourceVersion"]!.GetValue<string>();
            if (version is not null && version != projected && secret!["data"]?["keyset.json"]?.GetValue<string>() is { } data)
            {
                var bytes = Convert.FromBase64String(data);
                foreach (var pod in pods)
                {
                    var staged = Path.Combine(pod.KeysDirectory, "..keyset.json.tmp");
                    await File.WriteAllBytesAsync(staged, bytes, cancellationToken);
                    File.Move(staged, Path.Combine(pod.KeysDirectory, "keyset.json"), overwrite: true);
                }
                projected = version;
            }
            await Task.Delay(200, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await projection;
        foreach (var pod in pods)
        {
            await pod.Process.DisposeAsync();
        }
        http.Dispose();
        stop.Dispose();
    }
}
