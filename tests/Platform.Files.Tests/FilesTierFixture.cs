using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>Real PostgreSQL, Redis and RabbitMQ for the whole assembly; test classes get their own databases.</summary>
public sealed class FilesTierFixture : IAsyncLifetime
{
    public DataTier Tier { get; } = new("files", basePort: 25800);

    public Task InitializeAsync() => Tier.UpAsync(DataTier.Primary, DataTier.Replica, DataTier.Redis, DataTier.RabbitMq);

    public Task DisposeAsync() => Tier.DownAsync();
}

/// <summary>
/// One collection, so test classes run one after another: each runs its own files service, and all of them consume
/// the same <c>files.events</c> queue, which only one of them should do at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class FilesTierCollection : ICollectionFixture<FilesTierFixture>
{
    public const string Name = "files data tier";
}
