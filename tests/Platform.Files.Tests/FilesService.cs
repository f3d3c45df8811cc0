using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.ServiceDefaults.Data;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>The real files service (its own Program), in process on a real Kestrel port, validating auth's tokens over HTTP.</summary>
public sealed class FilesService : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> settings;

    private FilesService(Dictionary<string, string?> settings)
    {
        this.settings = settings;
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
    }

    public Uri Address => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public string DatabaseConnectionString => Services.GetRequiredService<PrimaryDatabase>().ConnectionString;

    public static async Task<FilesService> StartAsync(DataTier tier, string database, AuthService auth, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = tier.PostgresPrimary,
            ["ConnectionStrings:PostgresReplica"] = tier.PostgresReplica,
            ["ConnectionStrings:Redis"] = tier.RedisConnectionString,
            ["ConnectionStrings:RabbitMq"] = tier.RabbitMqUri,
            ["Postgres:Database"] = database,
            ["Auth:Issuer"] = AuthService.Issuer,
            ["Auth:Audience"] = "platform",
            ["Auth:JwksUri"] = auth.JwksUri.ToString(),
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var host = new FilesService(settings);
        host.StartServer();
        return await MigrateCommand.RunAsync(host.Services) == 0 ? host : throw new InvalidOperationException($"migrating {database} failed");
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
