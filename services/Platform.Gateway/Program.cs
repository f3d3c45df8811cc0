using Microsoft.AspNetCore.Authorization;
using Platform.Gateway.Edge;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Redis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPlatformRedis();
builder.AddPlatformAuthentication();
// Secure by default: a route needs a valid token unless its configuration says "Anonymous" (register, login,
// refresh and the JWKS do). The services validate the token again: defence in depth.
builder.Services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());

var routes = builder.Configuration.GetSection("ReverseProxy");
if (!routes.GetSection("Routes").GetChildren().Any())
{
    throw new InvalidOperationException($"No ReverseProxy:Routes configured (content root {builder.Environment.ContentRootPath}); the gateway would route nothing.");
}
builder.Services.AddReverseProxy().LoadFromConfig(routes);

var app = builder.Build();
app.UseSecurityHeaders();
app.MapDefaultEndpoints();
app.MapReverseProxy();
await app.RunAsync();
