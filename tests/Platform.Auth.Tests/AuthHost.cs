using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>
/// The real auth service against the real data tier, with its own database (migrated with the service's own
/// migrate command) and keyset directory.
/// </summary>
public sealed class AuthHost : ServiceHost<Program>
{
    public const string Issuer = "http://platform.test";

    private AuthHost(IReadOnlyDictionary<string, string?> settings)
        : base(settings)
    {
    }

    public string KeysDirectory => Settings["Keys:Directory"]!;

    public static async Task<AuthHost> StartAsync(DataTier tier, string database, string? keysDirectory = null, IReadOnlyDictionary<string, string?>? overrides = null)
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
        return await StartAsync(new AuthHost(settings));
    }
}
