using Platform.Testing;

namespace Platform.Libraries.Tests;

/// <summary>One data tier for the whole assembly; its tests run one after another because some stop servers.</summary>
public sealed class DataTierFixture : IAsyncLifetime
{
    public DataTier Tier { get; } = new("libraries", basePort: 25400);

    public Task InitializeAsync() => Tier.UpAsync(DataTier.Primary, DataTier.Redis, DataTier.RabbitMq);

    public Task DisposeAsync() => Tier.DownAsync();
}

[CollectionDefinition(Name)]
public sealed class DataTierCollection : ICollectionFixture<DataTierFixture>
{
    public const string Name = "data tier";
}
