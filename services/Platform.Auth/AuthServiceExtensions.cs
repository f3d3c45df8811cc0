using System.Text;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Platform.Auth.Data;
using Platform.Auth.ForwardAuth;
using Platform.Auth.Keys;
using Platform.Auth.Mail;
using Platform.Auth.Passwords;
using Platform.Auth.Sessions;
using Platform.Auth.Tokens;
using Platform.Authentication;
using Platform.Data;
using Platform.Data.Retention;
using Platform.Hosting;
using Platform.Hosting.Health;

namespace Platform.Auth;

public static class AuthServiceExtensions
{
    /// <summary>Options (validated at start), the keyset, passwords, throttling, sessions, token issuing and the mail outbox.</summary>
    public static WebApplicationBuilder AddAuthService(this WebApplicationBuilder builder)
    {
        builder.Services.AddSchema(AuthSchema.Component);
        builder.Services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<PasswordOptions>().BindConfiguration(PasswordOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<KeysOptions>().BindConfiguration(KeysOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<AccountOptions>().BindConfiguration(AccountOptions.Section).ValidateDataAnnotations()
            .Validate(accounts => string.IsNullOrWhiteSpace(accounts.PublicUrl)
                    || (Uri.TryCreate(accounts.PublicUrl, UriKind.Absolute, out var url) && url.Scheme is "https" or "http"),
                "Accounts:PublicUrl must be an absolute http(s) URL, or empty for Tokens:Issuer.")
            .ValidateOnStart();
        builder.Services.AddOptions<MailOptions>().BindConfiguration(MailOptions.Section).ValidateDataAnnotations()
            .Validate(mail => MimeKit.MailboxAddress.TryParse(mail.From, out _), "Mail:From must be an e-mail address, e.g. \"Platform <no-reply@example.org>\".")
            .Validate(mail => mail.MaxRetryDelay >= mail.RetryBaseDelay, "Mail:MaxRetryDelay must not be shorter than Mail:RetryBaseDelay.")
            .ValidateOnStart();
        builder.Services.AddOptions<SessionOptions>().BindConfiguration(SessionOptions.Section).ValidateDataAnnotations()
            .Validate(sessions => sessions.AbsoluteLifetime >= sessions.IdleTimeout, "Sessions:AbsoluteLifetime must not be shorter than Sessions:IdleTimeout.")
            .Validate(sessions => sessions.IdleTimeout > 2 * sessions.ActivityWriteInterval,
                "Sessions:IdleTimeout must exceed twice Sessions:ActivityWriteInterval: idle expiry is measured from coalesced activity writes.")
            // So a valid access token proves a live session, and an expiry needs no revocation to reach the other services.
            .Validate<IOptions<TokenOptions>>((sessions, tokens) => sessions.IdleTimeout > tokens.Value.AccessTokenLifetime,
                "Sessions:IdleTimeout must exceed Tokens:AccessTokenMinutes.")
            .ValidateOnStart();
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
        builder.Services.AddSingleton<ActivityCoalescer>();
        builder.Services.AddHostedService<SessionCleanup>();
        builder.AddPlatformRetention(EndedSessionsRetention.Rule);
        builder.AddPlatformRetention(EndedSessionsRetention.DeletedUsersRule);
        builder.Services.AddSingleton<RevocationPropagator>();
        builder.Services.AddSingleton<RecentRevocations>();
        builder.Services.AddHostedService(services => services.GetRequiredService<RevocationPropagator>());
        builder.Services.AddSingleton<ISigningKeySource, KeysetSigningKeySource>();
        builder.Services.AddSingleton<AccountMails>();
        builder.Services.AddSingleton<MailQuota>();
        builder.Services.AddSingleton<MailWakeup>();
        builder.Services.AddSingleton<MailMetrics>();
        builder.Services.AddHostedService<MailSender>();
        builder.AddClientAddresses();
        // Forward auth hands the caller's e-mail address to upstream apps; an address may be non-ASCII, which Kestrel refuses by default.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ResponseHeaderEncodingSelector = name =>
            string.Equals(name, ForwardAuthApi.UserEmailHeader, StringComparison.OrdinalIgnoreCase) ? Encoding.UTF8 : null);
        return builder;
    }

    /// <summary>
    /// Sessions record the client's address, which behind the gateway and the ingress is in <c>X-Forwarded-For</c>.
    /// Only proxies in <c>ForwardedHeaders:TrustedNetworks</c> (CIDR, e.g. the pod network) and loopback are believed;
    /// the gateway sets the header to the one address it resolved, so only that one entry is read.
    /// </summary>
    private static void AddClientAddresses(this WebApplicationBuilder builder)
    {
        var trusted = builder.Configuration.GetSection(ConfigurationKeys.ForwardedHeadersTrustedNetworks).Get<string[]>() ?? [];
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            options.ForwardLimit = 1;
            foreach (var network in trusted)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
    }
}
