using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Platform.Gateway.Resilience;
using Platform.Testing;

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
