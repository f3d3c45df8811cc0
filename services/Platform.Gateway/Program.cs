using Platform.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
var routes = builder.Configuration.GetSection("ReverseProxy");
if (!routes.GetSection("Routes").GetChildren().Any())
{
    throw new InvalidOperationException($"No ReverseProxy:Routes configured (content root {builder.Environment.ContentRootPath}); the gateway would route nothing.");
}
builder.Services.AddReverseProxy().LoadFromConfig(routes);

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapReverseProxy();
await app.RunAsync();
