using Platform.Testing;

namespace Platform.Tasks.Tests;

/// <summary>
/// The real tasks service (its own Program), in process on a real Kestrel port, against the real data tier, with
/// its own database (migrated by the service's migrate command) and its own event queue.
/// </summary>
public sealed class TasksHost : ServiceHost<Program>
{
    private TasksHost(IReadOnlyDictionary<string, string?> settings)
        : base(settings)
    {
    }

    public string Database => Settings["Postgres:Database"]!;

    public string EventQueue => Settings["Tasks:EventQueue"]!;

    public static async Task<TasksHost> StartAsync(TasksTierFixture fixture, string database)
    {
        var settings = fixture.Tier.ServiceSettings(database);
        settings["Auth:Issuer"] = TestIssuer.Issuer;
        settings["Auth:Audience"] = TestIssuer.Audience;
        settings["Auth:JwksUri"] = fixture.Issuer.JwksUri.ToString();
        settings["Tasks:EventQueue"] = $"tasks.events.{database}";
        return await StartAsync(new TasksHost(settings));
    }

    /// <summary>A new user of the platform, with a client that sends that user's token.</summary>
    public TasksClient NewUser(TasksTierFixture fixture)
    {
        var userId = Guid.NewGuid();
        return new TasksClient(CreateRealClient(), userId, fixture.Issuer.TokenFor(userId));
    }
}
