using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Redis;

namespace Platform.Authentication;

public static class AuthenticationExtensions
{
    /// <summary>
    /// Bearer-token authentication with the platform's access tokens, and authorization whose default policy
    /// requires an authenticated user (endpoints opt in with <c>RequireAuthorization()</c>), plus the role policies of
    /// <see cref="PlatformPolicies"/>. Needs
    /// <see cref="RedisExtensions.AddPlatformRedis"/> for session revocations. Keys come from
    /// <c>Auth:JwksUri</c> unless the service registers its own <see cref="ISigningKeySource"/> (before or
    /// after this call). <paramref name="tokenCacheInstrument"/> names the validated-token cache's counter, so a
    /// dashboard can tell the gateway's cache from the services'.
    /// </summary>
    public static WebApplicationBuilder AddPlatformAuthentication(this WebApplicationBuilder builder,
        string tokenCacheInstrument = AuthenticationMetrics.DefaultTokenCacheInstrument)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => new AuthenticationMetrics(provider.GetRequiredService<IMeterFactory>(), tokenCacheInstrument));

        services.AddHttpClient(JwksSigningKeySource.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(5));
        services.TryAddSingleton<ISigningKeySource, JwksSigningKeySource>();
        services.AddHostedService<SigningKeysWarmup>();

        services.TryAddSingleton<RevokedSessions>();
        services.TryAddSingleton(provider => new SessionRevocations(
            provider.GetRequiredService<IRedisConnection>(), provider.GetRequiredService<RevokedSessions>(), provider.GetRequiredService<TimeProvider>()));
        services.AddHttpClient(RevocationsFromAuth.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(5));
        services.TryAddSingleton<RevocationsFromAuth>();
        services.AddHostedService<RevokedSessionsSync>();

        services.TryAddSingleton<ValidatedTokenCache>();
        services.TryAddSingleton<BearerTokenValidator>();
        services.AddAuthentication(BearerAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, configureOptions: null);
        services.AddAuthorization(options =>
        {
            options.DefaultPolicy = new AuthorizationPolicyBuilder(BearerAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .Build();
            options.AddPolicy(PlatformPolicies.Admin, policy => policy.AddAuthenticationSchemes(BearerAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireRole(PlatformRoles.Admin));
        });
        return builder;
    }
}
