using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Hosting;
using Platform.Hosting.Health;
using Platform.Hosting.Metrics;
using Platform.Operator.Controllers;
using Platform.Operator.Keys;
using Platform.Operator.Kubernetes;
using Platform.Operator.Runtime;

namespace Platform.Operator.Hosting;

/// <summary><c>Platform.Operator run</c>: the controllers under leader election, with /healthz, /readyz and /metrics on Operator:Port.</summary>
public static class OperatorHost
{
    public static WebApplication Build(string[] args, Action<IServiceCollection>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        builder.Services.AddOptions<OperatorOptions>().BindConfiguration("Operator").ValidateDataAnnotations()
            .Validate(o => o.RenewDeadlineSeconds < o.LeaseDurationSeconds, "Operator:RenewDeadlineSeconds must be below LeaseDurationSeconds, or two leaders could overlap.")
            .ValidateOnStart();
        var port = builder.Configuration.GetValue("Operator:Port", 8080);
        builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
        var identity = Identity(builder.Configuration);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(services => services.GetRequiredService<IOptions<OperatorOptions>>().Value);
        builder.Services.AddSingleton<IKubernetesApi>(services =>
        {
            var options = services.GetRequiredService<OperatorOptions>();
            var configuration = KubernetesConnection.Configure(options.Kubeconfig);
            return new KubernetesApi(configuration, KubernetesConnection.Namespace(options.Namespace, configuration), TimeSpan.FromSeconds(options.WatchTimeoutSeconds));
        });
        builder.Services.AddSingleton<IAuthPodProbe>(services =>
            new HttpAuthPodProbe(services.GetRequiredService<IHttpClientFactory>().CreateClient("auth-pods"), services.GetRequiredService<OperatorOptions>().AuthPort));
        builder.Services.AddHttpClient("auth-pods");
        builder.Services.AddSingleton<KeyFactory>(SigningKeyFactory.Create);
        builder.Services.AddSingleton(services => new EventRecorder(services.GetRequiredService<IKubernetesApi>(), identity,
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<EventRecorder>>()));
        builder.Services.AddSingleton<WatchHealth>();
        builder.Services.AddSingleton<OperatorMetrics>();
        builder.Services.AddSingleton<SigningKeyRotationController>();
        builder.Services.AddSingleton<ScalingPolicyController>();
        builder.Services.AddSingleton(services =>
        {
            var options = services.GetRequiredService<OperatorOptions>();
            return new LeaderElector(services.GetRequiredService<IKubernetesApi>(), options.LeaseName, identity,
                new LeaderElectionTimings(options.LeaseDuration, options.RenewDeadline, options.RetryPeriod),
                services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<LeaderElector>>());
        });
        builder.Services.AddSingleton<OperatorRuntime>();
        builder.Services.AddHostedService(services => services.GetRequiredService<OperatorRuntime>());
        builder.Services.AddHealthChecks().AddCheck<WatchHealth>("watches", tags: [HealthEndpoints.ReadyTag]);
        overrides?.Invoke(builder.Services);

        var app = builder.Build();
        // The meter is created with the service; make sure it exists before the first scrape.
        app.Services.GetRequiredService<OperatorMetrics>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthEndpoints();
        app.MapPrometheusScrapingEndpoint();
        return app;
    }

    /// <summary>The pod name (downward API) when there is one: it says in the Lease which pod leads.</summary>
    private static string Identity(ConfigurationManager configuration) =>
        configuration["Operator:Identity"] is { Length: > 0 } configured ? configured
        : Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod
        : $"{Environment.MachineName}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
}
