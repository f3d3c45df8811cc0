using System.Diagnostics.Metrics;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Platform.Gateway.Resilience;
using Platform.Testing;
using Polly.Timeout;

namespace Platform.Gateway.Tests;

public sealed class UpstreamResilienceTests
{
    [Fact]
    public async Task An_address_no_request_went_to_for_the_idle_expiry_is_forgotten_with_its_gauge_series()
    {
        await using var upstream = await TestApp.StartAsync(map: app => app.MapGet("/ping", () => Results.Ok()));
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var time = new FakeTimeProvider();
        var resilience = new UpstreamResilience(Options.Create(new ResilienceOptions()), time, new GatewayMetrics(services.GetRequiredService<IMeterFactory>()));
        using var client = new HttpClient(resilience.Wrap("tasks", new SocketsHttpHandler()));
        // Two addresses of one server, as two pods of one upstream would be.
        var port = upstream.Client.BaseAddress!.Port;
        var leaving = new Uri($"http://localhost:{port}/ping");
        var staying = new Uri($"http://127.0.0.1:{port}/ping");

        (await client.GetAsync(leaving)).EnsureSuccessStatusCode();
        (await client.GetAsync(staying)).EnsureSuccessStatusCode();
        Assert.Equal([$"127.0.0.1:{port}", $"localhost:{port}"], CircuitSeries(services));

        time.Advance(UpstreamResilience.IdleExpiry / 2);
        (await client.GetAsync(staying)).EnsureSuccessStatusCode();
        time.Advance(UpstreamResilience.IdleExpiry / 2 + TimeSpan.FromSeconds(1));

        Assert.Equal([$"127.0.0.1:{port}"], CircuitSeries(services));
        (await client.GetAsync(leaving)).EnsureSuccessStatusCode();
        Assert.Equal([$"127.0.0.1:{port}", $"localhost:{port}"], CircuitSeries(services));
    }

    [Fact]
    public async Task A_refused_connection_is_tried_again_for_a_get_but_not_for_a_request_with_a_body()
    {
        await using var upstream = await TestApp.StartAsync(map: app =>
        {
            app.MapGet("/ping", () => "pong");
            app.MapPost("/ping", () => "pong");
        });
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var resilience = new UpstreamResilience(Options.Create(new ResilienceOptions { RetryAttempts = 2, RetryDelayMilliseconds = 1 }),
            TimeProvider.System, new GatewayMetrics(services.GetRequiredService<IMeterFactory>()));
        var connects = 0;
        var refuse = 0;
        var sockets = new SocketsHttpHandler
        {
            // Connections really fail here: the first `refuse` connects are refused at the socket.
            ConnectCallback = async (context, token) =>
            {
                if (Interlocked.Increment(ref connects) <= Volatile.Read(ref refuse))
                {
                    throw new SocketException((int)SocketError.ConnectionRefused);
                }
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            },
            PooledConnectionLifetime = TimeSpan.Zero,
        };
        using var client = new HttpClient(resilience.Wrap("tasks", sockets)) { BaseAddress = upstream.Client.BaseAddress };

        refuse = 2;
        Assert.Equal("pong", await client.GetStringAsync(new Uri("/ping", UriKind.Relative)));
        Assert.Equal(3, connects);

        connects = 0;
        refuse = 1;
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(new Uri("/ping", UriKind.Relative), new StringContent("body")));
        Assert.Equal(HttpRequestError.ConnectionError, failure.HttpRequestError);
        Assert.Equal(1, connects);

        connects = 0;
        refuse = 3;
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync(new Uri("/ping", UriKind.Relative)));
        Assert.Equal(3, connects);
    }

    [Fact]
    public async Task An_upstream_that_does_not_answer_in_time_is_a_timeout_and_a_caller_that_gives_up_is_not()
    {
        await using var upstream = await TestApp.StartAsync(map: app =>
        {
            app.MapGet("/slow", async (HttpContext context) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                return "too late";
            });
            app.MapGet("/ping", () => "pong");
        });
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var resilience = new UpstreamResilience(Options.Create(new ResilienceOptions { TimeoutSeconds = 30 }), TimeProvider.System,
            new GatewayMetrics(services.GetRequiredService<IMeterFactory>()));
        using var client = new HttpClient(resilience.Wrap("tasks", new SocketsHttpHandler())) { BaseAddress = upstream.Client.BaseAddress };

        using (var slow = new HttpRequestMessage(HttpMethod.Get, "/slow"))
        {
            slow.Options.Set(UpstreamResilience.TimeoutOption, TimeSpan.FromMilliseconds(300));
            var timeout = await Assert.ThrowsAsync<TimeoutRejectedException>(() => client.SendAsync(slow));
            Assert.Equal(TimeSpan.FromMilliseconds(300), timeout.Timeout);
        }

        using (var givenUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync(new Uri("/slow", UriKind.Relative), givenUp.Token));
        }

        // The deadlines are reused: the ones that fired or were cancelled must not reach later requests.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("pong", await client.GetStringAsync(new Uri("/ping", UriKind.Relative)));
        }
    }

    /// <summary>The destinations the circuit gauge reports, as a scrape would read them.</summary>
    private static string[] CircuitSeries(IServiceProvider services)
    {
        var destinations = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This test's own meter only (its factory is the meter's scope), not another gateway's in the process.
            if (instrument.Name == "gateway.circuit.state" && ReferenceEquals(instrument.Meter.Scope, services.GetRequiredService<IMeterFactory>()))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "destination")
                {
                    destinations.Add((string)tag.Value!);
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return [.. destinations.Order(StringComparer.Ordinal)];
    }
}
