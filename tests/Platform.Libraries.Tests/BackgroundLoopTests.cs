using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Platform.Hosting.Hosting;

namespace Platform.Libraries.Tests;

/// <summary>A service's loop ends quietly when it is stopped, also by a host whose start failed; a real fault is still reported.</summary>
public sealed class BackgroundLoopTests
{
    [Fact]
    public async Task A_loop_cancelled_by_a_host_whose_start_failed_is_not_reported_as_a_failed_service()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var logs = new FakeLogCollector();
        var app = Build(logs, $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}", fault: false);

        await Assert.ThrowsAsync<IOException>(() => app.StartAsync());
        await app.DisposeAsync();

        Assert.Equal(["Hosting failed to start"], await ErrorsAsync(logs, expected: 1));
    }

    /// <summary>
    /// The host's start can fail, and dispose the loop, before the thread pool ran a line of it: the task the host
    /// watches ends quietly then too (without it, 1 run of this class's first test in CI logged "BackgroundService failed").
    /// </summary>
    [Fact]
    public async Task A_loop_cancelled_before_it_ran_ends_quietly_for_the_host()
    {
        using var loop = new IdleLoop();

        await loop.StartAsync(new CancellationToken(canceled: true));
        await loop.ExecuteTask!;

        Assert.True(loop.ExecuteTask!.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_stopped_loop_ends_quietly_and_a_loop_that_fails_is_still_reported()
    {
        var quiet = new FakeLogCollector();
        await using (var app = Build(quiet, "http://127.0.0.1:0", fault: false))
        {
            await app.StartAsync();
            await app.StopAsync();
        }
        Assert.Empty(await ErrorsAsync(quiet, expected: 0));

        var failing = new FakeLogCollector();
        await using (var app = Build(failing, "http://127.0.0.1:0", fault: true))
        {
            await app.StartAsync();
            Assert.Contains("BackgroundService failed", await ErrorsAsync(failing, expected: 1));
            await app.StopAsync();
        }
    }

    private static WebApplication Build(FakeLogCollector logs, string url, bool fault)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls(url);
        builder.Services.AddSingleton<ILoggerProvider>(new FakeLoggerProvider(logs));
        builder.Services.AddSingleton(new Waiting(fault));
        builder.Services.AddHostedService<WaitingLoop>();
        return builder.Build();
    }

    /// <summary>The error lines once <paramref name="expected"/> of them are there, or after 2 s (the host logs from the service's task).</summary>
    private static async Task<string[]> ErrorsAsync(FakeLogCollector logs, int expected)
    {
        string[] errors = [];
        for (var waited = 0; waited < 20; waited++)
        {
            errors = [.. logs.GetSnapshot().Where(entry => entry.Level >= LogLevel.Error).Select(entry => entry.Message)];
            if (errors.Length > expected || (errors.Length == expected && waited >= 2))
            {
                break;
            }
            await Task.Delay(100);
        }
        return errors;
    }

    private sealed record Waiting(bool Fault);

    private sealed class IdleLoop : BackgroundLoop
    {
        protected override Task RunAsync(CancellationToken stoppingToken) => Task.Delay(Timeout.InfiniteTimeSpan, stoppingToken);
    }

    private sealed class WaitingLoop(Waiting waiting, IHostApplicationLifetime lifetime) : BackgroundLoop
    {
        protected override async Task RunAsync(CancellationToken stoppingToken)
        {
            if (waiting.Fault)
            {
                // Only once the host has started: the host stops on the failure, and a stop while Kestrel still binds
                // failed StartAsync itself with a TaskCanceledException (CI, once).
                await Task.Delay(Timeout.InfiniteTimeSpan, lifetime.ApplicationStarted).ContinueWith(_ => { }, TaskScheduler.Default);
                throw new InvalidOperationException("the loop's own failure");
            }
            await Task.Delay(Timeout.InfiniteTimeSpan, stoppingToken);
        }
    }
}
