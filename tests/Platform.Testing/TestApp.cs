using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Platform.Hosting;
using Platform.Hosting.Health;
using Platform.Hosting.Http;
using Platform.Hosting.Metrics;

namespace Platform.Testing;

/// <summary>A real Kestrel server on a loopback port, configured with the service defaults.</summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplication app;

    private TestApp(WebApplication app, Uri address)
    {
        this.app = app;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => app.Services;

    public static async Task<TestApp> StartAsync(Action<WebApplicationBuilder>? configure = null, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ApplicationName = typeof(TestApp).Assembly.GetName().Name });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        configure?.Invoke(builder);
        var app = builder.Build();
        // A service's pipeline (see any Program.cs), with authentication when the test added it.
        app.UseUnreadBodyReading();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (app.Services.GetService<IAuthenticationSchemeProvider>() is not null)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        app.MapHealthEndpoints();
        app.MapPrometheusScrapingEndpoint();
        map?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestApp(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
