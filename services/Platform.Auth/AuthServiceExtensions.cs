using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Platform.Auth.Keys;
using Platform.Auth.Passwords;
using Platform.Auth.Sessions;
using Platform.Auth.Tokens;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Health;

namespace Platform.Auth;

public static class AuthServiceExtensions
{
    /// <summary>Options (validated at start), the keyset, passwords, throttling, sessions and token issuing.</summary>
    public static WebApplicationBuilder AddAuthService(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TokenOptions>().BindConfiguration("Tokens").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<PasswordOptions>().BindConfiguration("Passwords").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<KeysOptions>().BindConfiguration("Keys").ValidateDataAnnotations().ValidateOnStart();
        // Auth validates exactly what it signs: one setting (Tokens) instead of two that could disagree.
        builder.Services.AddOptions<AuthOptions>().Configure<IOptions<TokenOptions>>((validation, tokens) =>
        {
            validation.Issuer = tokens.Value.Issuer;
            validation.Audience = tokens.Value.Audience;
        });
        builder.Services.TryAddSingleton(TimeProvider.System);

        builder.Services.AddSingleton<KeysetProvider>();
        builder.Services.AddHostedService(services => services.GetRequiredService<KeysetProvider>());
        builder.Services.AddHealthChecks().AddCheck<KeysetHealthCheck>("keyset", tags: [HealthEndpoints.ReadyTag]);

        builder.Services.AddSingleton<AuthMetrics>();
        builder.Services.AddSingleton<PasswordHasher>();
        builder.Services.AddSingleton<LoginThrottle>();
        builder.Services.AddSingleton<AccessTokenIssuer>();
        builder.Services.AddScoped<SessionManager>();
        builder.Services.AddSingleton<RevocationPropagator>();
        builder.Services.AddHostedService(services => services.GetRequiredService<RevocationPropagator>());
        builder.Services.AddSingleton<ISigningKeySource, KeysetSigningKeySource>();
        return builder;
    }
}
