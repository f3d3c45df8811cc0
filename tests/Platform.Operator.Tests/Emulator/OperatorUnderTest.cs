using System.Collections.Concurrent;
using System.Globalization;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
    private readonly WarningRecorder warnings;

    private OperatorUnderTest(WebApplication app, string directory, string identity, WarningRecorder warnings)
    {
        this.app = app;
        this.directory = directory;
        this.warnings = warnings;
        Identity = identity;
    }

    public string Identity { get; }

    /// <summary>What the operator logged at Warning or above, oldest first: for a test's failure message.</summary>
    public IReadOnlyList<string> Warnings => warnings.Lines;

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
        var warnings = new WarningRecorder();
        var app = OperatorHost.Build(args, services => services.AddSingleton(probe ?? new FakeAuthPods()).AddSingleton<ILoggerProvider>(warnings));
        await app.StartAsync();
        var instance = new OperatorUnderTest(app, directory, identity, warnings)
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

internal sealed class WarningRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyList<string> Lines => [.. lines];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(WarningRecorder recorder, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                recorder.lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)} {exception?.GetType().Name} {exception?.Message}");
            }
        }
    }
}

/// <summary>Auth pods as the operator sees them: each reports the keyset version a test sets (default: every version, i.e. never lagging).</summary>
public sealed class FakeAuthPods : IAuthPodProbe
{
    public ConcurrentDictionary<string, long> LoadedVersions { get; } = new(StringComparer.Ordinal);

    public Task<AuthPodReport> AskAsync(V1Pod pod, CancellationToken cancellationToken) =>
        Task.FromResult(new AuthPodReport(pod.Metadata.Name, LoadedVersions.TryGetValue(pod.Metadata.Name, out var version) ? version : long.MaxValue));
}
