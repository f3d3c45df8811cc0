using System.Collections.Concurrent;
using System.Globalization;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Platform.Operator.Controllers;
using Platform.Operator.Hosting;
using Platform.Operator.Keys;

namespace Platform.Operator.Tests.Emulator;

/// <summary>
/// The real operator host (<c>Platform.Operator run</c>) against an emulator, with second-scale timings:
/// lease 3 s, renew deadline 2 s, retry 1 s, keyset propagation 1 s, token lifetime plus skew 2 s.
/// </summary>
public sealed class OperatorUnderTest : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly string directory;

    private OperatorUnderTest(WebApplication app, string directory, string identity)
    {
        this.app = app;
        this.directory = directory;
        Identity = identity;
    }

    public string Identity { get; }

    public Uri Address { get; private set; } = null!;

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
            "--Logging:LogLevel:Default=Warning",
        ];
        var app = OperatorHost.Build(args, services => services.AddSingleton(probe ?? new FakeAuthPods()));
        await app.StartAsync();
        var instance = new OperatorUnderTest(app, directory, identity)
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
