using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.ServiceDefaults.Data;

namespace Platform.Tasks.Tests;

/// <summary>
/// The real tasks service (its own Program), in process on a real Kestrel port, against the real data tier, with
/// its own database (migrated by the service's migrate command) and its own event queue.
/// </summary>
public sealed class TasksHost : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> settings;

    private TasksHost(Dictionary<string, string?> settings)
    {
        this.settings = settings;
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
    }

    public string Database => settings["Postgres:Database"]!;

    public string EventQueue => settings["Tasks:EventQueue"]!;

    public Uri Address => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public static async Task<TasksHost> StartAsync(TasksTierFixture fixture, string database)
    {
        var tier = fixture.Tier;
        var host = new TasksHost(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = tier.PostgresPrimary,
            ["ConnectionStrings:PostgresReplica"] = tier.PostgresReplica,
            ["ConnectionStrings:Redis"] = tier.RedisConnectionString,
            ["ConnectionStrings:RabbitMq"] = tier.RabbitMqUri,
            ["Postgres:Database"] = database,
            ["Auth:Issuer"] = TestIssuer.Issuer,
            ["Auth:Audience"] = TestIssuer.Audience,
            ["Auth:JwksUri"] = fixture.Issuer.JwksUri.ToString(),
            ["Tasks:EventQueue"] = $"tasks.events.{database}",
        });
        host.StartServer();
        var migrated = await MigrateCommand.RunAsync(host.Services);
        return migrated == 0 ? host : throw new InvalidOperationException($"migrating {database} failed");
    }

    /// <summary>A new user of the platform, with a client that sends that user's token.</summary>
    public TasksClient NewUser(TasksTierFixture fixture)
    {
        var userId = Guid.NewGuid();
        return new TasksClient(new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) }, userId, fixture.Issuer.TokenFor(userId));
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
