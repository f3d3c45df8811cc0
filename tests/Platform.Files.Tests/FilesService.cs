using Microsoft.Extensions.DependencyInjection;
using Platform.Data;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>The real files service against the real data tier, validating auth's tokens over HTTP.</summary>
public sealed class FilesService : ServiceHost<Program>
{
    private FilesService(IReadOnlyDictionary<string, string?> settings)
        : base(settings)
    {
    }

    public string DatabaseConnectionString => Services.GetRequiredService<PrimaryDatabase>().ConnectionString;

    public static async Task<FilesService> StartAsync(DataTier tier, string database, AuthService auth, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = tier.ServiceSettings(database);
        settings["Auth:Issuer"] = AuthService.Issuer;
        settings["Auth:Audience"] = "platform";
        settings["Auth:JwksUri"] = auth.JwksUri.ToString();
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return await StartAsync(new FilesService(settings));
    }
}
