using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.Authentication;
using Platform.Gateway;
using Platform.Gateway.ApiDocs;
using Platform.Gateway.Edge;
using Platform.Gateway.Events;
using Platform.Hosting;
using Platform.Hosting.Health;
using Platform.Hosting.Metrics;
using Platform.Redis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
// Without Redis the gateway only degrades: limits fall back to memory, the revoked-session set stays as it was.
builder.AddPlatformRedis(outageStatus: HealthStatus.Degraded);
builder.AddPlatformAuthentication(GatewayMetrics.TokenCacheInstrument);
// Secure by default: a route needs a valid token unless its configuration says "Anonymous" (register, login,
// refresh and the JWKS do). The services validate the token again: defence in depth.
builder.Services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
builder.AddEdge();
builder.AddProxy();
builder.AddApiDocs();
builder.AddEventStream();

var app = builder.Build();
app.UseEdge();
// The pipeline, in order: an exception or a bare status becomes problem details; the bearer token is validated (and
// the caller authorised per endpoint); then probes, metrics and the API.
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.MapHealthEndpoints();
app.MapPrometheusScrapingEndpoint();
app.MapApiDocs();
app.MapEventStream();
app.MapProxy();
await app.RunAsync();
