using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Hosting.Problems;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class RegistrationTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private AuthHost host = null!;
    private AuthApiClient api = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_registration");
        api = new AuthApiClient(host.CreateRealClient());
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Registering_returns_201_with_the_user_and_no_secrets()
    {
        var email = AuthApiClient.NewEmail();

        using var response = await api.RegisterAsync(email, name: "Ada Lovelace");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var user = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(email, user.GetProperty("email").GetString());
        Assert.Equal("Ada Lovelace", user.GetProperty("name").GetString());
        Assert.True(Guid.TryParse(user.GetProperty("id").GetString(), out _));
        Assert.DoesNotContain("password", user.GetRawText(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_email_taken_in_any_letter_case_is_409()
    {
        var email = AuthApiClient.NewEmail();
        (await api.RegisterAsync(email)).Dispose();

        using var again = await api.RegisterAsync(email.ToUpperInvariant());

        await AuthApiClient.ProblemAsync(again, HttpStatusCode.Conflict, AuthProblems.EmailTaken);
    }

    [Fact]
    public async Task Concurrent_registrations_of_one_address_create_one_account()
    {
        var email = AuthApiClient.NewEmail();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => api.RegisterAsync(email)));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
    }

    [Theory]
    [InlineData(null, AuthApiClient.GoodPassword, "email")]
    [InlineData("not-an-address", AuthApiClient.GoodPassword, "email")]
    [InlineData("a b@example.org", AuthApiClient.GoodPassword, "email")]
    [InlineData("user@localhost", AuthApiClient.GoodPassword, "email")]
    [InlineData("user@example.org", null, "password")]
    [InlineData("user@example.org", "Short1", "password")]
    [InlineData("user@example.org", "alllowercaseletters", "password")]
    [InlineData("user@example.org", "12345678901234", "password")]
    public async Task Invalid_input_is_a_400_naming_the_field(string? email, string? password, string field)
    {
        using var response = await api.Http.PostAsJsonAsync("/api/auth/register", new { email, password });

        var problem = await AuthApiClient.ProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
    }

    [Fact]
    public async Task A_password_over_128_characters_is_refused()
    {
        using var response = await api.RegisterAsync(AuthApiClient.NewEmail(), "Aa1" + new string('x', 126));

        await AuthApiClient.ProblemAsync(response, HttpStatusCode.BadRequest, ProblemTypes.Validation);
    }

    [Theory]
    [InlineData("{\"email\": ")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"email\": 42, \"password\": true}")]
    public async Task Malformed_bodies_are_400_and_create_nothing(string body)
    {
        using var response = await api.Http.PostAsync("/api/auth/register", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Passwords_are_not_truncated_at_bcrypts_72_bytes()
    {
        var email = AuthApiClient.NewEmail();
        var prefix = "Aa1" + new string('p', 80);
        (await api.RegisterAsync(email, prefix + "-one")).Dispose();

        using var withOtherEnding = await api.LoginAsync(email, prefix + "-two");
        using var withRightEnding = await api.LoginAsync(email, prefix + "-one");

        Assert.Equal(HttpStatusCode.Unauthorized, withOtherEnding.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withRightEnding.StatusCode);
    }
}
