using Platform.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Platform.EndToEnd.Tests;

/// <summary>The platform as <c>make run</c> starts it, once for the end-to-end collection.</summary>
public sealed class EndToEndPlatform() : LocalPlatform("endtoend", 25500, GenerousRateLimits), IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}

[CollectionDefinition(Name)]
public sealed class LocalPlatformCollection : ICollectionFixture<EndToEndPlatform>
{
    public const string Name = "local platform";
}
