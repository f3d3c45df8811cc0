using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Auth.Data;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>
/// The real auth service against the real data tier, with its own database (migrated with the service's own
/// migrate command) and keyset directory; optionally on a clock the test controls.
/// </summary>
public sealed class AuthHost : ServiceHost<Program>
{
    public const string Issuer = "http://platform.test";

    private readonly TimeProvider? clock;

    private AuthHost(IReadOnlyDictionary<string, string?> settings, TimeProvider? clock)
        : base(settings)
    {
        this.clock = clock;
    }

    public string KeysDirectory => Settings["Keys:Directory"]!;

    /// <param name="clock">
    /// Replaces the service's clock: session lifetimes, token issuing, the token cache and the cleanup job follow it.
    /// Token signatures and expiry are still checked against the real time, so tests that advance it present only
    /// tokens issued before the advance and keep the advance under their lifetime.
    /// </param>
    public static async Task<AuthHost> StartAsync(DataTier tier, string database, string? keysDirectory = null,
        IReadOnlyDictionary<string, string?>? overrides = null, TimeProvider? clock = null)
    {
        var settings = tier.ServiceSettings(database);
        settings["Keys:Directory"] = keysDirectory ?? await TestKeysets.CreateAsync();
        settings["Keys:PollSeconds"] = "1";
        settings["Tokens:Issuer"] = Issuer;
        settings["Passwords:BcryptCost"] = "4"; // the minimum: tests register hundreds of users; the cost itself is tested on its own
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return await StartAsync(new AuthHost(settings, clock));
    }

    /// <summary>Runs a query against the service's own database, as the service sees it.</summary>
    public async Task<T> QueryAsync<T>(Func<AuthDbContext, Task<T>> query)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AuthDbContext>());
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        if (clock is not null)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(clock));
        }
    }
}
