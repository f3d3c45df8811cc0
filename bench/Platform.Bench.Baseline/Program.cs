// The ceiling of this machine for .NET: Kestrel answering a fixed JSON body of a cached task's size, with no
// routing beyond one endpoint, no middleware, no logging per request. `make bench` compares the services with it.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(options => options.AddServerHeader = false);

var app = builder.Build();
var body = """
    {"id":"0190a0b1-7c2d-7e3f-8a4b-5c6d7e8f9a0b","title":"bench task 1","description":"seeded by make bench","status":"todo","dueAt":null,"createdAt":"2026-01-01T00:00:00+00:00","updatedAt":"2026-01-01T00:00:00+00:00","version":1}
    """u8.ToArray();
app.MapGet("/", () => Results.Bytes(body, "application/json"));
await app.RunAsync();
