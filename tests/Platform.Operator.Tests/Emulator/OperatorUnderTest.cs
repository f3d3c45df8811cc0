using System.Collections.Concurrent;
using System.Globalization;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Platform.Operator.Controllers;
using Platform.Operator.Hosting;
using Platform.Operator.Keys;
using Platform.Testing;

namespace Platform.Operator.Tests.Emulator;

/// <summary>
/// The real operator host (<c>Platform.Operator run</c>) against an emulator, with second-scale timings:
/// lease 3 s, renew deadline 2 s, retry 1 s, keyset propagation 1 s, token lifetime plus skew 2 s; it may manage the
/// keyset Secrets <see cref="KeysetSecrets"/> (Operator:KeysetSecrets), the names the tests' rotations use.
/// </summary>
public sealed class OperatorUnderTest : IAsyncDisposable
{
    public const string KeysetSecrets = "keyset,green-keyset";

    private readonly WebApplication app;
    private readonly string directory;
    private readonly FakeLogCollector logs;

    private OperatorUnderTest(WebApplication app, string directory, string identity, FakeLogCollector logs)
    {
        this.app = app;
        this.directory = directory;
        this.logs = logs;
        Identity = identity;
    }

    public string Identity { get; }

    /// <summary>What the operator logged (Warning and above, as the host is configured), oldest first: for a test's failure message.</summary>
    public IEnumerable<string> Warnings => logs.GetSnapshot().Select(r => $"{r.Timestamp:HH:mm:ss.fff} {r.Level} {r.Category}: {r.Message} {r.Exception?.GetType().Name} {r.Exception?.Message}");

    public Uri Address { get; private set; } = null!;

    /// <summary>The reconciles <paramref name="controller"/> has finished, whatever their result, from this operator's /metrics.</summary>
    public async Task<double> ReconcileCountAsync(string controller)
    {
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(Address, "/metrics"));
        return metrics.Split('\n')
            .Where(line => line.StartsWith("operator_reconcile_total{", StringComparison.Ordinal) && line.Contains($"controller=\"{controller}\"", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Waits until <paramref name="controller"/> has finished more than <paramref name="reconciles"/> reconciles; a timeout
    /// says what the operator logged, its last requests and the watches the emulator holds open.
    /// </summary>
    public async Task WaitForReconcileAsync(string controller, double reconciles, ApiServerEmulator emulator, TimeSpan timeout, string what)
    {
        ArgumentNullException.ThrowIfNull(emulator);
        try
        {
            await Poll.UntilAsync(async () => await ReconcileCountAsync(controller) > reconciles, timeout, what);
        }
        catch (TimeoutException timedOut)
        {
            var requests = emulator.Requests.TakeLast(12).Select(r => $"{r.Verb} {r.Collection}/{r.Name}");
            throw new TimeoutException(
                $"{timedOut.Message}\noperator warnings:\n{string.Join('\n', Warnings)}\nlast requests: {string.Join(", ", requests)}\nopen watches: {string.Join(", ", emulator.OpenWatches)}",
                timedOut);
        }
    }

    public OperatorRuntime Runtime => app.Services.GetRequiredService<OperatorRuntime>();

    public static async Task<OperatorUnderTest> StartAsync(ApiServerEmulator emulator, string identity, IAuthPodProbe? probe = null, string token = EmulatorClient.Token, int resyncSeconds = 30)
    {
        var directory = Directory.CreateTempSubdirectory("operator-").FullName;
        var kubeconfig = EmulatorClient.WriteKubeconfig(emulator, directory, token);
        string[] args =
        [
            $"--Operator:Kubeconfig={kubeconfig}",
            "--Operator:Port=0",
            $"--Operator:Identity={identity}",
            "--Operator:LeaseDurationSeconds=3",
            "--Operator:RenewDeadlineSeconds=2",
            "--Operator:RetryPeriodSeconds=1",
            "--Operator:KeysetPropagationSeconds=1",
            "--Operator:TokenLifetimePlusSkewSeconds=2",
            $"--Operator:ResyncSeconds={resyncSeconds.ToString(CultureInfo.InvariantCulture)}",
            "--Operator:WatchTimeoutSeconds=20",
            $"--Operator:KeysetSecrets={KeysetSecrets}",
            "--Logging:LogLevel:Default=Warning",
        ];
        var logs = new FakeLogCollector();
        var app = OperatorHost.Build(args, services => services.AddSingleton(probe ?? new FakeAuthPods()).AddSingleton<ILoggerProvider>(new FakeLoggerProvider(logs)));
        await app.StartAsync();
        var instance = new OperatorUnderTest(app, directory, identity, logs)
        {
            Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)),
        };
        return instance;
    }

    public async Task StopAsync() => await app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }
}

/// <summary>Auth pods as the operator sees them: each reports the keyset version a test sets (default: every version, i.e. never lagging).</summary>
public sealed class FakeAuthPods : IAuthPodProbe
{
    public ConcurrentDictionary<string, long> LoadedVersions { get; } = new(StringComparer.Ordinal);

    public Task<AuthPodReport> AskAsync(V1Pod pod, CancellationToken cancellationToken) =>
        Task.FromResult(new AuthPodReport(pod.Metadata.Name, LoadedVersions.TryGetValue(pod.Metadata.Name, out var version) ? version : long.MaxValue));
}
