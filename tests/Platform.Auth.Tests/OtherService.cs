using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Redis;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>
/// Another service of the platform, as tasks or files are: its own process state (JWKS cache, revoked-session
/// set), validating auth's tokens through auth's JWKS over HTTP, on a real Kestrel port.
/// </summary>
public sealed class OtherService : IAsyncDisposable
{
    private readonly WebApplication app;

    private OtherService(WebApplication app, Uri address)
    {
        this.app = app;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; }

    public static async Task<OtherService> StartAsync(DataTier tier, AuthHost auth)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ApplicationName = "Platform.Auth.Tests" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["ConnectionStrings:Redis"] = tier.RedisConnectionString;
        builder.Configuration["Auth:Issuer"] = AuthHost.Issuer;
        builder.Configuration["Auth:Audience"] = "platform";
        builder.Configuration["Auth:JwksUri"] = new Uri(auth.Address, "/.well-known/jwks.json").ToString();
        builder.AddServiceDefaults();
        builder.AddPlatformRedis();
        builder.AddPlatformAuthentication();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGet("/whoami", (System.Security.Claims.ClaimsPrincipal user) => TypedResults.Ok(new { userId = user.UserId(), sessionId = user.SessionId() }))
            .RequireAuthorization();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new OtherService(app, new Uri(address));
    }

    public async Task<HttpStatusCode> WhoAmIAsync(string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/whoami");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await Http.SendAsync(request);
        return response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
