using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Platform.Authentication;
using Platform.Redis;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>
/// Another service of the platform, as tasks or files are: its own process state (JWKS cache, revoked-session
/// set), validating auth's tokens through auth's JWKS over HTTP, on a real Kestrel port.
/// </summary>
public sealed class OtherService : IAsyncDisposable
{
    private readonly TestApp app;

    private OtherService(TestApp app) => this.app = app;

    public static async Task<OtherService> StartAsync(DataTier tier, AuthHost auth) => new(await TestApp.StartAsync(
        builder =>
        {
            builder.Configuration["ConnectionStrings:Redis"] = tier.RedisConnectionString;
            builder.Configuration["Auth:Issuer"] = AuthHost.Issuer;
            builder.Configuration["Auth:Audience"] = "platform";
            builder.Configuration["Auth:JwksUri"] = new Uri(auth.Address, "/.well-known/jwks.json").ToString();
            builder.AddPlatformRedis();
            builder.AddPlatformAuthentication();
        },
        web => web.MapGet("/whoami", (System.Security.Claims.ClaimsPrincipal user) => TypedResults.Ok(new { userId = user.UserId(), sessionId = user.SessionId() }))
            .RequireAuthorization()));

    public async Task<HttpStatusCode> WhoAmIAsync(string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/whoami");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await app.Client.SendAsync(request);
        return response.StatusCode;
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();
}
