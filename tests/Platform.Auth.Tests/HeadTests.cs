using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Api.OpenApi;
using Platform.Auth.ForwardAuth;
using Platform.Hosting.Http;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>
/// HEAD on auth's GET routes, as monitors, link checkers and the gateway send it: the answer GET gives — status,
/// headers, the same authorisation — without the body. It was 405 before every GET answered HEAD too.
/// </summary>
[Collection(AuthTierCollection.Name)]
public sealed class HeadTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private AuthHost host = null!;
    private AuthApiClient api = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_head");
        api = new AuthApiClient(host.CreateRealClient());
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Theory]
    [InlineData("/.well-known/jwks.json", "Cache-Control")]
    [InlineData("/.well-known/openid-configuration", null)]
    [InlineData("/api/auth/config", "Cache-Control")]
    public async Task Public_documents_answer_head_with_gets_status_and_headers(string path, string? header)
    {
        var answers = await HeadAndGet.SendAsync(api.Http, path, null, header is null ? [] : [header]);

        Assert.Equal(HttpStatusCode.OK, answers.Status);
        Assert.Empty(answers.Differences);
        Assert.NotEmpty(answers.GetBody);
    }

    [Fact]
    public async Task Forward_auth_answers_head_with_the_callers_identity()
    {
        var (email, tokens) = await api.NewUserAsync();

        var answers = await HeadAndGet.SendAsync(api.Http, "/api/auth/verify", tokens.AccessToken,
            ForwardAuthApi.UserIdHeader, ForwardAuthApi.UserEmailHeader, ForwardAuthApi.SessionIdHeader, "Cache-Control");

        Assert.Equal(HttpStatusCode.OK, answers.Status);
        Assert.Empty(answers.Differences);
        using var head = await api.SendAsync(HttpMethod.Head, "/api/auth/verify", tokens.AccessToken);
        Assert.Equal(email, head.Headers.GetValues(ForwardAuthApi.UserEmailHeader).Single());
    }

    [Theory]
    [InlineData("/api/auth/me")]
    [InlineData("/api/auth/sessions")]
    [InlineData("/api/auth/verify")]
    [InlineData("/api/admin/users")]
    public async Task Head_is_refused_as_get_is_without_a_token(string path)
    {
        var answers = await HeadAndGet.SendAsync(api.Http, path, null, "WWW-Authenticate");

        Assert.Equal(HttpStatusCode.Unauthorized, answers.Status);
        Assert.Empty(answers.Differences);
    }

    [Fact]
    public async Task Head_of_an_admin_route_is_forbidden_to_a_user_as_get_is()
    {
        var (_, tokens) = await api.NewUserAsync();

        var answers = await HeadAndGet.SendAsync(api.Http, "/api/admin/users", tokens.AccessToken);

        Assert.Equal(HttpStatusCode.Forbidden, answers.Status);
        Assert.Empty(answers.Differences);
    }

    [Fact]
    public async Task Head_of_the_callers_own_resources_answers_as_get()
    {
        var (_, tokens) = await api.NewUserAsync();

        foreach (var path in new[] { "/api/auth/me", "/api/auth/sessions" })
        {
            var answers = await HeadAndGet.SendAsync(api.Http, path, tokens.AccessToken, "Cache-Control");
            Assert.Equal(HttpStatusCode.OK, answers.Status);
            Assert.Empty(answers.Differences);
        }
    }

    [Fact]
    public async Task A_route_without_get_still_refuses_head_and_says_what_it_allows()
    {
        using var head = await api.SendAsync(HttpMethod.Head, "/api/auth/login", null);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
        Assert.Equal(["POST"], head.Content.Headers.Allow);
    }

    [Fact]
    public async Task Every_public_get_answers_head_and_the_document_says_so_once()
    {
        using var http = host.CreateRealClient();
        var document = await http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var documentedGets = ApiDocumentCoverage.DocumentedOperations(document).Where(operation => operation.StartsWith("GET ", StringComparison.Ordinal))
            .Select(operation => operation[4..]);
        Assert.Equal(documentedGets.Order(StringComparer.Ordinal), ApiDocumentCoverage.ImplicitHeads(host.Services).Where(path => !OpenApiExtensions.IsInternal(path)));
        Assert.DoesNotContain(ApiDocumentCoverage.DocumentedOperations(document), operation => operation.StartsWith("HEAD ", StringComparison.Ordinal));
        Assert.EndsWith(HeadRequests.DocumentNote, document.GetProperty("info").GetProperty("description").GetString());
        Assert.Empty(ApiDocumentCoverage.RoutesWithTwoHeads(host.Services));
    }
}
