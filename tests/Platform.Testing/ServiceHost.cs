using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Data;

namespace Platform.Testing;

/// <summary>
/// A real service (its own Program) in the test process, on a real Kestrel port, configured by settings: the
/// tests talk HTTP to it and can still reach its services. <see cref="StartAsync"/> runs the service's own
/// migrate command on its database before anything uses it.
/// </summary>
public abstract class ServiceHost<TEntryPoint> : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    protected ServiceHost(IReadOnlyDictionary<string, string?> settings)
    {
        Settings = settings;
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
    }

    public IReadOnlyDictionary<string, string?> Settings { get; }

    public Uri Address => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public HttpClient CreateRealClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Starts the server and migrates its database; returns the host itself.</summary>
    protected static async Task<THost> StartAsync<THost>(THost host)
        where THost : ServiceHost<TEntryPoint>
    {
        ArgumentNullException.ThrowIfNull(host);
        host.StartServer();
        if (await MigrateCommand.RunAsync(host.Services) != 0)
        {
            await host.DisposeAsync();
            throw new InvalidOperationException($"migrating {host.Settings["Postgres:Database"]} failed");
        }
        return host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseEnvironment("Production");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
