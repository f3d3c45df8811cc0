using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>
/// Real PostgreSQL, Redis, RabbitMQ and SMTP server for the whole assembly; test classes get their own databases,
/// and tell their mail apart by recipient (every test user has an address of its own).
/// </summary>
public sealed class AuthTierFixture : IAsyncLifetime
{
    public AuthTierFixture() => Mail = new MailSink(Tier);

    public DataTier Tier { get; } = new("auth", basePort: 25600);

    public MailSink Mail { get; }

    public async Task InitializeAsync()
    {
        await Tier.UpAsync(DataTier.Primary, DataTier.Redis, DataTier.RabbitMq);
        await Mail.UpAsync();
    }

    public async Task DisposeAsync()
    {
        await Mail.DownAsync();
        await Tier.DownAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class AuthTierCollection : ICollectionFixture<AuthTierFixture>
{
    public const string Name = "auth data tier";
}
