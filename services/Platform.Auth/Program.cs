using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.Api.OpenApi;
using Platform.Auth;
using Platform.Auth.Accounts;
using Platform.Auth.Admin;
using Platform.Auth.Data;
using Platform.Auth.ForwardAuth;
using Platform.Auth.Keys;
using Platform.Auth.Passwords;
using Platform.Auth.Sessions;
using Platform.Authentication;
using Platform.Broker;
using Platform.Data;
using Platform.Hosting;
using Platform.Hosting.Health;
using Platform.Hosting.Http;
using Platform.Hosting.Metrics;
using Platform.Hosting.Problems;
using Platform.Messaging;
using Platform.Redis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPlatformDbContext<AuthDbContext>("auth");
// Redis and RabbitMQ outages degrade this service (no cache, memory fallbacks, events wait in the outbox) but
// take no request down: readiness stays 200, reported degraded, so Kubernetes keeps routing to every pod.
builder.AddPlatformRedis(outageStatus: HealthStatus.Degraded);
builder.AddPlatformRabbitMq(outageStatus: HealthStatus.Degraded);
builder.AddPlatformOutbox();
builder.AddPlatformAuthentication();
builder.AddAuthService();
builder.AddPlatformOpenApi("Platform auth", "Accounts, sessions and tokens; the public keys that validate them.", new Dictionary<string, string>
{
    ["auth"] = "Accounts, logins, sessions and their tokens.",
    ["keys"] = "The public keys and issuer metadata that validate access tokens.",
    ["admin"] = "Managing users and reading the audit log; admins only.",
});

var app = builder.Build();
if (MigrateCommand.IsMigrateCommand(args))
{
    return await MigrateCommand.RunAsync(app);
}
if (CreateAdminCommand.IsCreateAdminCommand(args))
{
    return await CreateAdminCommand.RunAsync(app.Services, args, Console.In, Console.Out, Console.Error);
}

app.UseForwardedHeaders();
// The pipeline, in order: a small body the answer did not need is still read (so HTTP/2 streams end cleanly); an
// exception or a bare status becomes problem details; the bearer token is validated (and the caller authorised per
// endpoint); then probes, metrics and the API.
app.UseUnreadBodyReading();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.MapHealthEndpoints();
app.MapPrometheusScrapingEndpoint();
app.UseUtf8JsonBodiesOnly();
app.MapPlatformOpenApi();
app.MapGroup("").AnswerHeadLikeGet().MapKeysApi();
app.MapRevocationsApi();
app.MapGroup("/api/auth").WithTags("auth").AnswerHeadLikeGet().MapAccountsApi().MapSessionsApi().MapPasswordChangeApi().MapPasswordResetApi()
    .MapEmailVerificationApi().MapClientConfigApi().MapForwardAuthApi();
app.MapGroup("/api/admin").WithTags("admin").RequireAuthorization(PlatformPolicies.Admin).AnswerHeadLikeGet().MapAdminUsersApi().MapAdminAuditApi();
await app.RunAsync();
return 0;
