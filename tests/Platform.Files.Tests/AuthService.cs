extern alias AuthProject;
extern alias OperatorProject;

using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OperatorProject::Platform.Operator.Keys;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Keys;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>
/// The real auth service, in process on a real Kestrel port, with its own database and a keyset written by the
/// operator's key factory: the tests' users register and log in as clients do, and delete their accounts for real.
/// </summary>
public sealed class AuthService : WebApplicationFactory<AuthProject::Program>
{
    public const string Issuer = "http://platform.test";

    private readonly Dictionary<string, string?> settings;

    private AuthService(Dictionary<string, string?> settings)
    {
        this.settings = settings;
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
    }

    public Uri Address => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public Uri JwksUri => new(Address, "/.well-known/jwks.json");

    public static async Task<AuthService> StartAsync(DataTier tier, string database)
    {
        var keys = Path.Combine(Path.GetTempPath(), "platform-files-keys-" + Guid.NewGuid().ToString("N"));
        var now = DateTimeOffset.UtcNow;
        await KeysetFile.WriteAsync(keys, new Keyset(1, [SigningKeyFactory.CreateEs256(now, now.AddMinutes(-1))]), CancellationToken.None);
        var host = new AuthService(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = tier.PostgresPrimary,
            ["ConnectionStrings:Redis"] = tier.RedisConnectionString,
            ["ConnectionStrings:RabbitMq"] = tier.RabbitMqUri,
            ["Postgres:Database"] = database,
            ["Keys:Directory"] = keys,
            ["Tokens:Issuer"] = Issuer,
            ["Passwords:BcryptCost"] = "4", // the minimum: the cost is auth's concern, tested there
            ["Auth:Issuer"] = Issuer,
            ["Auth:Audience"] = "platform",
        });
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
