extern alias AuthProject;
extern alias OperatorProject;

using OperatorProject::Platform.Operator.Keys;
using Platform.Contracts.Keys;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>
/// The real auth service with its own database and a keyset written by the operator's key factory: the tests'
/// users register and log in as clients do, and delete their accounts for real.
/// </summary>
public sealed class AuthService : ServiceHost<AuthProject::Program>
{
    public const string Issuer = "http://platform.test";

    private AuthService(IReadOnlyDictionary<string, string?> settings)
        : base(settings)
    {
    }

    public Uri JwksUri => new(Address, "/.well-known/jwks.json");

    public static async Task<AuthService> StartAsync(DataTier tier, string database)
    {
        var keys = ScratchDirectories.Create("keys");
        var now = DateTimeOffset.UtcNow;
        await KeysetFile.WriteAsync(keys, new Keyset(1, [SigningKeyFactory.CreateEs256(now, now.AddMinutes(-1))]), CancellationToken.None);
        var settings = tier.ServiceSettings(database);
        settings["Keys:Directory"] = keys;
        settings["Tokens:Issuer"] = Issuer;
        settings["Passwords:BcryptCost"] = "4"; // the minimum: the cost is auth's concern, tested there
        return await StartAsync(new AuthService(settings));
    }
}
