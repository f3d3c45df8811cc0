using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Gateway.Upstreams;
using Yarp.ReverseProxy.Configuration;

namespace Platform.Gateway.Tests;

public sealed class UpstreamAddressesTests
{
    private static readonly Dictionary<string, DestinationConfig> Headless = new()
    {
        ["local"] = new DestinationConfig { Address = "http://tasks-h2c.platform.svc.cluster.local:8081/" },
    };

    [Fact]
    public async Task A_host_name_becomes_one_destination_per_pod_named_after_its_address()
    {
        var pods = new[] { IPAddress.Parse("10.0.0.7"), IPAddress.Parse("10.0.0.5") };
        var resolver = Resolver((_, _) => Task.FromResult(pods));

        var resolved = await resolver.ResolveDestinationsAsync(Headless, CancellationToken.None);

        Assert.Equal(["local@10.0.0.5", "local@10.0.0.7"], resolved.Destinations.Keys.Order(StringComparer.Ordinal));
        var first = resolved.Destinations["local@10.0.0.5"];
        Assert.Equal("http://10.0.0.5:8081/", first.Address);
        Assert.Equal("tasks-h2c.platform.svc.cluster.local:8081", first.Host);
        Assert.NotNull(resolved.ChangeToken);
        Assert.False(resolved.ChangeToken!.HasChanged);
    }

    [Fact]
    public async Task The_next_lookup_follows_pods_that_come_and_go()
    {
        var pods = new[] { IPAddress.Parse("10.0.0.5") };
        var resolver = Resolver((_, _) => Task.FromResult(pods));
        Assert.Equal(["local@10.0.0.5"], (await resolver.ResolveDestinationsAsync(Headless, CancellationToken.None)).Destinations.Keys);

        pods = [IPAddress.Parse("10.0.0.6"), IPAddress.Parse("10.0.0.8")];

        Assert.Equal(["local@10.0.0.6", "local@10.0.0.8"],
            (await resolver.ResolveDestinationsAsync(Headless, CancellationToken.None)).Destinations.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_failed_lookup_keeps_the_pods_found_last_and_a_name_never_found_stays_a_name()
    {
        var fail = false;
        var resolver = Resolver((_, _) => fail
            ? Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound))
            : Task.FromResult(new[] { IPAddress.Parse("10.0.0.5") }));
        await resolver.ResolveDestinationsAsync(Headless, CancellationToken.None);
        fail = true;

        var kept = await resolver.ResolveDestinationsAsync(Headless, CancellationToken.None);
        Assert.Equal("http://10.0.0.5:8081/", Assert.Single(kept.Destinations).Value.Address);

        var never = new Dictionary<string, DestinationConfig> { ["local"] = new() { Address = "http://files.platform.svc.cluster.local/" } };
        var unresolved = await resolver.ResolveDestinationsAsync(never, CancellationToken.None);
        Assert.Equal(("local", "http://files.platform.svc.cluster.local/"), (Assert.Single(unresolved.Destinations).Key, unresolved.Destinations["local"].Address));
    }

    [Fact]
    public async Task An_address_is_a_destination_as_it_is_and_a_real_name_resolves_through_the_systems_resolver()
    {
        var resolver = Resolver(null);
        var destinations = new Dictionary<string, DestinationConfig>
        {
            ["ip"] = new() { Address = "http://127.0.0.1:8182/" },
            ["name"] = new() { Address = "http://localhost:8182/" },
        };

        var resolved = await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);

        Assert.Same(destinations["ip"], resolved.Destinations["ip"]);
        var byName = resolved.Destinations.Where(pair => pair.Key.StartsWith("name@", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(byName);
        Assert.All(byName, pair => Assert.True(IPAddress.IsLoopback(IPAddress.Parse(new Uri(pair.Value.Address).Host.Trim('[', ']')))));
    }

    private static UpstreamAddresses Resolver(Func<string, CancellationToken, Task<IPAddress[]>>? lookup) =>
        new(new StaticOptions(new UpstreamAddressOptions()), NullLogger<UpstreamAddresses>.Instance, lookup);

    private sealed class StaticOptions(UpstreamAddressOptions value) : IOptionsMonitor<UpstreamAddressOptions>
    {
        public UpstreamAddressOptions CurrentValue => value;

        public UpstreamAddressOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<UpstreamAddressOptions, string?> listener) => null;
    }
}
