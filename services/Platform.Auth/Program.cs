using Platform.Auth;
using Platform.Auth.Accounts;
using Platform.Auth.Data;
using Platform.Auth.ForwardAuth;
using Platform.Auth.Keys;
using Platform.Auth.Sessions;
using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Problems;
using Platform.ServiceDefaults.Redis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPlatformDbContext<AuthDbContext>("auth");
builder.AddPlatformRedis();
builder.AddPlatformRabbitMq();
builder.AddPlatformOutbox();
builder.AddPlatformAuthentication();
builder.AddAuthService();

var app = builder.Build();
if (MigrateCommand.IsMigrateCommand(args))
{
    return await MigrateCommand.RunAsync(app);
}

app.UseForwardedHeaders();
app.MapDefaultEndpoints();
app.UseUtf8JsonBodiesOnly();
app.MapKeysApi();
app.MapGroup("/api/auth").MapAccountsApi().MapSessionsApi().MapClientConfigApi().MapForwardAuthApi();
await app.RunAsync();
return 0;
