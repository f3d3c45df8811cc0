using Platform.Testing;

namespace Platform.Tasks.Tests;

/// <summary>
/// Real PostgreSQL primary and streaming replica, Redis and RabbitMQ for the whole assembly, and the token
/// issuer; each test class starts its own tasks service on its own database.
/// </summary>
public sealed class TasksTierFixture : IAsyncLifetime
{
    public DataTier Tier { get; } = new("tasks", basePort: 25700);

    public TestIssuer Issuer { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Tier.UpAsync(DataTier.Primary, DataTier.Replica, DataTier.Redis, DataTier.RabbitMq);
        Issuer = await TestIssuer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Issuer.DisposeAsync();
        await Tier.DownAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class TasksTierCollection : ICollectionFixture<TasksTierFixture>
{
    public const string Name = "tasks data tier";
}
