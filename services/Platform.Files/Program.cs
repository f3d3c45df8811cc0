using Platform.ServiceDefaults;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPlatformPostgres("files");
builder.AddPlatformRabbitMq();

var app = builder.Build();
if (MigrateCommand.IsMigrateCommand(args))
{
    return await MigrateCommand.RunAsync(app);
}

app.MapDefaultEndpoints();
await app.RunAsync();
return 0;
