using System.Net;
using System.Net.Http.Json;

namespace Platform.Reliability.Tests.Security;

/// <summary>What a hostile web page can get out of the API through a victim's browser (CORS), and what every answer tells the browser (headers).</summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class EdgeExposureTests(ReliabilityPlatform platform)
{
    private static readonly string[] ForeignOrigins =
    [
        "https://evil.example", "null", "https://app.example.test.evil.example", "http://app.example.test", "https://evil.example/https://app.example.test",
        "https://APP.example.test.evil.example",
    ];

    [Fact]
    [Trait("Category", "Drill")]
    public async Task A_foreign_origin_gets_no_CORS_grant_on_preflight_or_on_a_credentialed_request()
    {
        var user = await platform.SignUpAsync("cors");
        var rows = new List<IReadOnlyList<object>>();
        foreach (var origin in ForeignOrigins.Append(ReliabilityPlatform.AllowedOrigin))
        {
            using var preflight = platform.Request(HttpMethod.Options, "/api/tasks", user.ClientAddress);
            preflight.Headers.Add("Origin", origin);
            preflight.Headers.Add("Access-Control-Request-Method", "DELETE");
            preflight.Headers.Add("Access-Control-Request-Headers", "authorization");
            using var preflightAnswer = await platform.Client.SendAsync(preflight);
            using var actual = platform.Request(HttpMethod.Get, "/api/tasks", user.ClientAddress, user.AccessToken);
            actual.Headers.Add("Origin", origin);
            using var actualAnswer = await platform.Client.SendAsync(actual);
            rows.Add([origin, (int)preflightAnswer.StatusCode, Grant(preflightAnswer), (int)actualAnswer.StatusCode, Grant(actualAnswer)]);
        }

        Report.Write("security", "cors", $"""
            ### CORS from foreign origins (allowed origin `{ReliabilityPlatform.AllowedOrigin}` as the control)

            {Report.Table(["Origin", "preflight", "preflight grant", "GET with token", "GET grant"], rows)}
            """);
        Assert.All(rows.SkipLast(1), row => Assert.Equal(("", ""), ((string)row[2], (string)row[4])));
        Assert.Equal(ReliabilityPlatform.AllowedOrigin, rows[^1][4]);
    }

    [Fact]
    [Trait("Category", "Drill")]
    public async Task Every_answer_of_every_kind_carries_the_security_headers_and_no_server_banner()
    {
        var user = await platform.SignUpAsync("headers");
        var cases = new (string What, HttpMethod Method, string Path, bool Authenticated, HttpContent? Body)[]
        {
            ("200 JSON", HttpMethod.Get, "/api/tasks", true, null), ("201", HttpMethod.Post, "/api/tasks", true, JsonContent.Create(new { title = "h" })),
            ("400", HttpMethod.Get, "/api/tasks?limit=0", true, null), ("401", HttpMethod.Get, "/api/tasks", false, null),
            ("404 route", HttpMethod.Get, "/api/nowhere", true, null), ("404 object", HttpMethod.Get, $"/api/files/{Guid.NewGuid()}", true, null),
            ("PUT on a POST-only route", HttpMethod.Put, "/api/auth/login", false, JsonContent.Create(new { })), ("413", HttpMethod.Post, "/api/tasks", true, new ByteArrayContent(new byte[2 * 1024 * 1024])),
            ("415", HttpMethod.Post, "/api/tasks", true, new StringContent("x")), ("jwks", HttpMethod.Get, "/.well-known/jwks.json", false, null),
            ("health", HttpMethod.Get, "/api/health", false, null), ("file bytes", HttpMethod.Get, "/api/files", true, null),
        };
        var rows = new List<IReadOnlyList<object>>();
        foreach (var (what, method, path, authenticated, body) in cases)
        {
            using var request = platform.Request(method, path, user.ClientAddress, authenticated ? user.AccessToken : null);
            request.Content = body;
            using var answer = await platform.Client.SendAsync(request);
            rows.Add([what, $"{method} {path}", (int)answer.StatusCode, Header(answer, "X-Content-Type-Options"), Header(answer, "X-Frame-Options"),
                Header(answer, "Referrer-Policy"), answer.Headers.Contains("X-Request-Id") ? "yes" : "no", Header(answer, "Server") + Header(answer, "X-Powered-By")]);
        }
        var spent = new HttpStatusCode[12];
        var limitedAddress = platform.NewClientAddress();
        for (var i = 0; i < spent.Length; i++)
        {
            using var login = platform.Request(HttpMethod.Post, "/api/auth/login", limitedAddress);
            login.Content = JsonContent.Create(new { email = "nobody@example.org", password = "wrong-Password-1" });
            using var answer = await platform.Client.SendAsync(login);
            spent[i] = answer.StatusCode;
            if (answer.StatusCode == HttpStatusCode.TooManyRequests)
            {
                rows.Add(["429", "POST /api/auth/login", 429, Header(answer, "X-Content-Type-Options"), Header(answer, "X-Frame-Options"),
                    Header(answer, "Referrer-Policy"), answer.Headers.Contains("X-Request-Id") ? "yes" : "no", Header(answer, "Server") + Header(answer, "X-Powered-By")]);
                break;
            }
        }

        Report.Write("security", "headers", $"""
            ### Security headers on every kind of answer from the gateway

            {Report.Table(["answer", "request", "status", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-Id", "Server / X-Powered-By"], rows)}
            """);
        Assert.Contains(rows, row => (int)row[2] == 429);
        Assert.All(rows, row => Assert.Equal(("nosniff", "DENY", "no-referrer", "yes", ""), ((string)row[3], (string)row[4], (string)row[5], (string)row[6], (string)row[7])));
    }

    private static string Grant(HttpResponseMessage answer) =>
        answer.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? string.Join(",", values) : "";

    private static string Header(HttpResponseMessage answer, string name) =>
        answer.Headers.TryGetValues(name, out var values) || answer.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : "";
}
