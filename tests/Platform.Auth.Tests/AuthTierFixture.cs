using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>Real PostgreSQL, Redis and RabbitMQ for the whole assembly; test classes get their own databases.</summary>
public sealed class AuthTierFixture : IAsyncLifetime
{
    public DataTier Tier { get; } = new("auth", basePort: 25600);

    public Task InitializeAsync() => Tier.UpAsync(DataTier.Primary, DataTier.Redis, DataTier.RabbitMq);

    public Task DisposeAsync() => Tier.DownAsync();
}

[CollectionDefinition(Name)]
public sealed class AuthTierCollection : ICollectionFixture<AuthTierFixture>
{
    public const string Name = "auth data tier";
}
