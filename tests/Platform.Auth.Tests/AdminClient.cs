using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Auth.Accounts;

namespace Platform.Auth.Tests;

/// <summary>Admins made the way an operator makes the first one (the create-admin command), and the admin API as they use it.</summary>
public sealed class AdminClient(AuthHost host, AuthApiClient api)
{
    public AuthApiClient Api { get; } = api;

    public async Task<(Guid Id, string Email, Tokens Tokens)> NewAdminAsync()
    {
        var email = AuthApiClient.NewEmail();
        var error = new StringWriter();
        var exit = await CreateAdminCommand.RunAsync(host.Services, ["create-admin", "--email", email], new StringReader(AuthApiClient.GoodPassword + "\n"),
            TextWriter.Null, error);
        Assert.True(exit == 0, error.ToString());
        var tokens = await Api.LoginOkAsync(email);
        return (UserIdOf(tokens), email, tokens);
    }

    public async Task<(Guid Id, string Email, Tokens Tokens)> NewUserAsync()
    {
        var (email, tokens) = await Api.NewUserAsync();
        return (UserIdOf(tokens), email, tokens);
    }

    public static Guid UserIdOf(Tokens tokens) => Guid.Parse(new JsonWebToken(tokens.AccessToken).Subject);

    public static Guid SessionIdOf(Tokens tokens) => Guid.Parse(new JsonWebToken(tokens.AccessToken).GetClaim("sid").Value);

    public static IReadOnlyList<string> RolesOf(Tokens tokens) =>
        [.. new JsonWebToken(tokens.AccessToken).Claims.Where(c => c.Type == "roles").Select(c => c.Value).Order(StringComparer.Ordinal)];

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, Tokens caller, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.AccessToken);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        return await Api.Http.SendAsync(request);
    }

    public async Task<JsonElement> OkAsync(HttpMethod method, string path, Tokens caller, object? body = null)
    {
        using var response = await SendAsync(method, path, caller, body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task NoContentAsync(HttpMethod method, string path, Tokens caller)
    {
        using var response = await SendAsync(method, path, caller);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
