using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.ServiceDefaults.Data;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>
/// The real auth service (its own Program), in process but on a real Kestrel port, against the real data tier,
/// with its own database (migrated with the service's own migrate command) and keyset directory.
/// </summary>
public sealed class AuthHost : WebApplicationFactory<Program>
{
    public const string Issuer = "http://platform.test";

    private readonly Dictionary<string, string?> settings;

    private AuthHost(Dictionary<string, string?> settings)
    {
        this.settings = settings;
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
    }

    public string KeysDirectory => settings["Keys:Directory"]!;

    public Uri Address => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public HttpClient CreateRealClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<AuthHost> StartAsync(DataTier tier, string database, string? keysDirectory = null, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = tier.PostgresPrimary,
            ["ConnectionStrings:Redis"] = tier.RedisConnectionString,
            ["ConnectionStrings:RabbitMq"] = tier.RabbitMqUri,
            ["Postgres:Database"] = database,
            ["Keys:Directory"] = keysDirectory ?? await TestKeysets.CreateAsync(),
            ["Keys:PollSeconds"] = "1",
            ["Tokens:Issuer"] = Issuer,
            ["Passwords:BcryptCost"] = "4", // the minimum: tests register hundreds of users; the cost itself is tested on its own
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var host = new AuthHost(settings);
        host.StartServer();
        var migrated = await MigrateCommand.RunAsync(host.Services);
        return migrated == 0 ? host : throw new InvalidOperationException($"migrating {database} failed");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
