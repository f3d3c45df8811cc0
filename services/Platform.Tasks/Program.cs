using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.Api.OpenApi;
using Platform.Authentication;
using Platform.Broker;
using Platform.Data;
using Platform.Hosting;
using Platform.Hosting.Health;
using Platform.Hosting.Http;
using Platform.Hosting.Metrics;
using Platform.Messaging;
using Platform.Redis;
using Platform.Tasks;
using Platform.Tasks.Tasks;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPlatformPostgres("tasks");
builder.AddPlatformReadReplica();
// Redis and RabbitMQ outages degrade this service (no cache, memory fallbacks, events wait in the outbox) but
// take no request down: readiness stays 200, reported degraded, so Kubernetes keeps routing to every pod.
builder.AddPlatformRedis(outageStatus: HealthStatus.Degraded);
builder.AddPlatformRabbitMq(outageStatus: HealthStatus.Degraded);
builder.AddPlatformOutbox();
builder.AddPlatformAuthentication();
builder.AddTasksService();
builder.AddPlatformOpenApi("Platform tasks", "The caller's tasks, with strong ETags for optimistic concurrency.",
    new Dictionary<string, string> { ["tasks"] = "The caller's own tasks; another user's are 404." });

var app = builder.Build();
if (MigrateCommand.IsMigrateCommand(args))
{
    return await MigrateCommand.RunAsync(app);
}

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
app.MapPlatformOpenApi();
app.MapGroup("/api/tasks").WithTags("tasks").AnswerHeadLikeGet().MapTasksApi();
await app.RunAsync();
return 0;
