using System.Text;

namespace Platform.Reliability.Tests.Corpus;

/// <summary>The corpus user's own objects, which hostile requests aim at so that a rejected write would show.</summary>
public sealed record CorpusTargets(Guid TaskId, Guid FileId, Guid SessionId);

/// <summary>
/// The generated bad-input corpus over every route of the public API (README "API"): the same seed gives the
/// same requests, so a failure reproduces. Writes that must not end the corpus user's session (logout, account
/// deletion, revoking all other sessions) are sent only with junk credentials.
/// </summary>
public static class BadInputCorpus
{
    private const string RegisterTemplate = """{"email":"corpus@example.org","password":"correct-Horse-battery-9","name":"Corpus"}""";
    private const string LoginTemplate = """{"email":"nobody-corpus@example.org","password":"correct-Horse-battery-9"}""";
    private const string RefreshTemplate = """{"refreshToken":"not-a-refresh-token"}""";
    private const string TaskTemplate = """{"title":"corpus","description":"d","status":"todo","dueAt":"2030-01-01T00:00:00Z"}""";

    public static readonly string[] BadIds =
    [
        "not-a-uuid", "0", "-1", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "{0c8e2f1a-0000-0000-0000-000000000000}",
        "0c8e2f1a00000000000000000000000g", "%00", "%C3%28", "%ff%fe", "..%2F..%2Fetc%2Fpasswd", "..%5C..%5Cwin.ini", "1%20OR%201%3D1",
        "%27%3BDROP%20TABLE%20tasks%3B--", "%F0%9F%98%80", new string('a', 4_000), "%2e%2e", "a%0d%0aX-Injected:%201",
    ];

    public static readonly string[] BadCursors =
    [
        "", "!!!", "%00", "%C3%28", "AAAA", "____", "not-base64url", new string('A', 5_000), "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw",
        "eyJhbGciOiJub25lIn0", "%2F%2F%2F%2F", "AAAAAAAAAAAAAAAAAAAAAA==",
    ];

    public static readonly string[] BadLimits = ["0", "-1", "201", "1.5", "abc", "99999999999999999999", "%00", "", "1e3", "0x10", " 5", "+5"];

    public static readonly string[] BadStatuses = ["DONE", "", "archived", "%00", "todo,done", "in progress", new string('x', 3_000)];

    public static readonly string[] JunkAuthorizations =
    [
        "Bearer", "Bearer ", "Bearer  ", "bearer x.y.z", "Basic dXNlcjpwYXNz", "Bearer a.b", "Bearer ....", "Bearer eyJhbGciOiJub25lIn0.e30.",
        "Bearer " + new string('A', 7_000), "Negotiate abc", "Bearer x.y.z, Bearer a.b.c",
    ];

    public static readonly string[] JunkRanges =
    [
        "bytes=", "bytes=abc", "bytes=-", "bytes=5-1", "bytes=99999999999999999999-", "bytes=-0", "bytes=0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0",
        "items=0-1", "bytes=0-1;x", "bytes = 0-1", "bytes=-99999999999999999999", "bytes=1-2,-", new string('b', 6_000),
    ];

    public static readonly string[] OddJsonContentTypes =
    [
        "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data", "application/json; charset=utf-16",
        "application/json; charset=nonsense", "application/json; charset=", "*/*", ";;;", "application/jsonx", "application", "APPLICATION/JSON; CHARSET=UTF-8",
        "application/merge-patch+json; charset=latin1", "application/json\t", "application/json, text/plain",
    ];

    private const int OversizeBody = 1024 * 1024 + 16 * 1024;

    public static readonly string[] JunkEntityTags = ["\"", "W/\"x\"", "*, \"a\"", new string('e', 6_000)];

    public static readonly string[] JunkIfMatch = ["\"", "W/\"1\"", "\"999999999999999999999\"", "garbage", "*,*"];

    public static List<CorpusRequest> Generate(CorpusTargets targets, int seed, int minimum)
    {
        var random = new Random(seed);
        var corpus = new List<CorpusRequest>();
        var task = $"/api/tasks/{targets.TaskId}";
        var jsonRoutes = new (string Route, HttpMethod Method, string Path, string Template, Caller Caller)[]
        {
            ("POST /api/auth/register", HttpMethod.Post, "/api/auth/register", RegisterTemplate, Caller.Anonymous),
            ("POST /api/auth/login", HttpMethod.Post, "/api/auth/login", LoginTemplate, Caller.Anonymous),
            ("POST /api/auth/refresh", HttpMethod.Post, "/api/auth/refresh", RefreshTemplate, Caller.Anonymous),
            ("POST /api/tasks", HttpMethod.Post, "/api/tasks", TaskTemplate, Caller.User),
            ("PUT /api/tasks/{id}", HttpMethod.Put, task, TaskTemplate, Caller.User),
            ("PATCH /api/tasks/{id}", HttpMethod.Patch, task, TaskTemplate, Caller.User),
        };
        foreach (var (route, method, path, template, caller) in jsonRoutes)
        {
            CorpusRequest Json(string kind, byte[] body, string contentType = "application/json", bool chunked = false) =>
                new(route, kind, method, path, caller, body, contentType, chunked);
            corpus.AddRange(HostileJson.Malformed.Select(body => Json("malformed JSON", Encoding.UTF8.GetBytes(body))));
            corpus.AddRange(HostileJson.DeeplyNested.Select(body => Json("deeply nested JSON", Encoding.UTF8.GetBytes(body))));
            corpus.AddRange(HostileJson.FieldVariants(template).Select(variant => Json(variant.Kind, Encoding.UTF8.GetBytes(variant.Body))));
            corpus.AddRange(HostileJson.InvalidUtf8(template).Select(variant => Json(variant.Kind, variant.Body)));
            corpus.AddRange(OddJsonContentTypes.Select(type => Json("content type " + type, Encoding.UTF8.GetBytes(template), type)));
            corpus.Add(new(route, "no content type", method, path, caller, Encoding.UTF8.GetBytes(template)));
            // Just over the 1 MiB limit: a server that refuses a body closes the connection without reading the rest,
            // and a client still writing a much larger one may lose the answer to the reset (HTTP/1.1 has no cure
            // for that but Expect: 100-continue, which the Content-Length case sends).
            corpus.Add(Json("oversize body (Content-Length, Expect: 100-continue)", new byte[OversizeBody]));
            corpus.Add(Json("oversize body (chunked)", new byte[OversizeBody], chunked: true));
            corpus.Add(Json("junk credentials", Encoding.UTF8.GetBytes(template)) with { Caller = Caller.Junk });
        }

        foreach (var id in BadIds)
        {
            foreach (var (route, method, path) in new[]
                     {
                         ("GET /api/tasks/{id}", HttpMethod.Get, $"/api/tasks/{id}"), ("DELETE /api/tasks/{id}", HttpMethod.Delete, $"/api/tasks/{id}"),
                         ("GET /api/files/{id}", HttpMethod.Get, $"/api/files/{id}"), ("GET /api/files/{id}/content", HttpMethod.Get, $"/api/files/{id}/content"),
                         ("DELETE /api/files/{id}", HttpMethod.Delete, $"/api/files/{id}"), ("DELETE /api/auth/sessions/{id}", HttpMethod.Delete, $"/api/auth/sessions/{id}"),
                     })
            {
                corpus.Add(new(route, "bad id", method, path, Caller.User));
            }
            foreach (var (route, method) in new[] { ("PUT /api/tasks/{id}", HttpMethod.Put), ("PATCH /api/tasks/{id}", HttpMethod.Patch) })
            {
                corpus.Add(new(route, "bad id", method, $"/api/tasks/{id}", Caller.User, Encoding.UTF8.GetBytes(TaskTemplate), "application/json"));
            }
        }

        foreach (var list in new[] { "/api/tasks", "/api/files" })
        {
            var route = "GET " + list;
            corpus.AddRange(BadCursors.Select(cursor => new CorpusRequest(route, "bad cursor", HttpMethod.Get, $"{list}?cursor={cursor}", Caller.User)));
            corpus.AddRange(BadLimits.Select(limit => new CorpusRequest(route, "bad limit", HttpMethod.Get, $"{list}?limit={limit}", Caller.User)));
            corpus.Add(new(route, "repeated parameters", HttpMethod.Get, $"{list}?limit=1&limit=2&cursor=a&cursor=b", Caller.User));
            corpus.Add(new(route, "query of 7 KB", HttpMethod.Get, $"{list}?x={new string('q', 7_000)}", Caller.User));
        }
        corpus.AddRange(BadStatuses.Select(status => new CorpusRequest("GET /api/tasks", "bad status", HttpMethod.Get, $"/api/tasks?status={status}", Caller.User)));

        var content = $"/api/files/{targets.FileId}/content";
        corpus.AddRange(JunkRanges.Select(range => new CorpusRequest("GET /api/files/{id}/content", "junk Range", HttpMethod.Get, content, Caller.User,
            Headers: [new("Range", range)])));
        corpus.AddRange(JunkEntityTags.Select(tag => new CorpusRequest("GET /api/files/{id}/content", "junk If-None-Match",
            HttpMethod.Get, content, Caller.User, Headers: [new("If-None-Match", tag), new("Range", "bytes=0-1"), new("If-Range", tag)])));
        corpus.AddRange(JunkIfMatch.Select(tag => new CorpusRequest("PATCH /api/tasks/{id}", "junk If-Match",
            HttpMethod.Patch, task, Caller.User, Encoding.UTF8.GetBytes("""{"title":"if-match"}"""), "application/merge-patch+json", Headers: [new("If-Match", tag)])));

        foreach (var name in HostileUploads.FileNames)
        {
            corpus.Add(new("POST /api/files", "hostile file name " + HostileUploads.Describe(name), HttpMethod.Post,
                "/api/files?name=" + Uri.EscapeDataString(name), Caller.User, "hello"u8.ToArray(), "text/plain"));
        }
        corpus.AddRange(HostileUploads.ContentTypes.Select(type => new CorpusRequest("POST /api/files", "odd upload content type " + HostileUploads.Describe(type),
            HttpMethod.Post, "/api/files?name=odd.bin", Caller.User, "<html><script>alert(1)</script>"u8.ToArray(), type)));
        corpus.AddRange(HostileUploads.MultipartShapes().Select(shape => new CorpusRequest("POST /api/files", shape.Kind, HttpMethod.Post, "/api/files", Caller.User,
            shape.Body, shape.ContentType)));
        corpus.Add(new("POST /api/files", "junk credentials", HttpMethod.Post, "/api/files?name=a.txt", Caller.Junk, "hello"u8.ToArray(), "text/plain"));

        foreach (var (route, method, path) in new[]
                 {
                     ("GET /api/auth/me", HttpMethod.Get, "/api/auth/me"), ("GET /api/auth/sessions", HttpMethod.Get, "/api/auth/sessions"),
                     ("POST /api/auth/logout", HttpMethod.Post, "/api/auth/logout"), ("DELETE /api/auth/account", HttpMethod.Delete, "/api/auth/account"),
                     ("DELETE /api/auth/sessions", HttpMethod.Delete, "/api/auth/sessions"), ("GET /api/auth/verify", HttpMethod.Get, "/api/auth/verify"),
                     ("GET /api/tasks", HttpMethod.Get, "/api/tasks"), ("GET /api/files", HttpMethod.Get, "/api/files"),
                     ("POST /api/tasks", HttpMethod.Post, "/api/tasks"), ("DELETE /api/tasks/{id}", HttpMethod.Delete, task),
                     ("DELETE /api/files/{id}", HttpMethod.Delete, $"/api/files/{targets.FileId}"),
                 })
        {
            corpus.AddRange(JunkAuthorizations.Select(junk => new CorpusRequest(route, "junk Authorization", method, path, Caller.Anonymous,
                Headers: [new("Authorization", junk)])));
        }
        foreach (var (route, method, path) in new[]
                 {
                     ("GET /api/auth/me", HttpMethod.Get, "/api/auth/me"), ("GET /api/auth/sessions", HttpMethod.Get, "/api/auth/sessions"),
                     ("GET /api/auth/config", HttpMethod.Get, "/api/auth/config"), ("GET /.well-known/jwks.json", HttpMethod.Get, "/.well-known/jwks.json"),
                     ("GET /.well-known/openid-configuration", HttpMethod.Get, "/.well-known/openid-configuration"), ("GET /api/health", HttpMethod.Get, "/api/health"),
                     ("POST /api/auth/sessions/current/activity", HttpMethod.Post, "/api/auth/sessions/current/activity"),
                 })
        {
            var caller = route.Contains("/me", StringComparison.Ordinal) || route.Contains("sessions", StringComparison.Ordinal) ? Caller.User : Caller.Anonymous;
            corpus.AddRange(HostileJson.Malformed.Take(12).Select(body => new CorpusRequest(route, "unexpected body", method, path + "?x=%C3%28&%00=1", caller,
                Encoding.UTF8.GetBytes(body), "application/json")));
        }
        corpus.Add(new("DELETE /api/auth/sessions/{id}", "revoke own current session with junk body", HttpMethod.Delete,
            $"/api/auth/sessions/{targets.SessionId}", Caller.Junk, "{"u8.ToArray(), "application/json"));

        // Random mutations of valid bodies make up the rest, mostly on the cheap routes: a login or register that
        // survives mutation costs a password hash (~100 ms), so those get a small share.
        var fuzzed = jsonRoutes.Where(route => route.Caller == Caller.User).ToArray();
        for (var i = 0; corpus.Count < minimum || i < 300; i++)
        {
            var (route, method, path, template, caller) = i < 300 ? jsonRoutes[i % 3] : fuzzed[random.Next(fuzzed.Length)];
            corpus.Add(new(route, "random mutation", method, path, caller, HostileJson.Mutate(template, random),
                method == HttpMethod.Patch && random.Next(2) == 0 ? "application/merge-patch+json" : "application/json"));
        }
        return corpus;
    }
}
