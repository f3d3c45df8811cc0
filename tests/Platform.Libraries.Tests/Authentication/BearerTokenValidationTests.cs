using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using Platform.Hosting.Problems;

using Platform.Testing;

namespace Platform.Libraries.Tests.Authentication;

/// <summary>What a protected endpoint accepts, and the forgeries and mistakes it refuses.</summary>
[Collection(DataTierCollection.Name)]
public sealed class BearerTokenValidationTests(DataTierFixture fixture) : IAsyncLifetime
{
    private readonly TestSigningKey es256 = TestSigningKey.Es256();
    private readonly TestSigningKey rs256 = TestSigningKey.Rsa(SecurityAlgorithms.RsaSha256);
    private readonly TestSigningKey ps256 = TestSigningKey.Rsa(SecurityAlgorithms.RsaSsaPssSha256);
    private JwksServer jwks = null!;
    private TestApp app = null!;

    public async Task InitializeAsync()
    {
        jwks = await JwksServer.StartAsync(es256, rs256, ps256);
        app = await ProtectedApp.StartAsync(jwks, fixture.Tier.RedisConnectionString);
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await jwks.DisposeAsync();
    }

    [Fact]
    public async Task A_valid_token_is_accepted_and_the_endpoint_sees_its_user_session_and_email()
    {
        var spec = TokenSpec.Valid();

        using var response = await app.GetWithTokenAsync(Tokens.Sign(spec, es256));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new ProtectedApp.Caller(spec.UserId, spec.SessionId!.Value, spec.Email), await response.CallerAsync());
    }

    [Theory]
    [InlineData(SecurityAlgorithms.RsaSha256)]
    [InlineData(SecurityAlgorithms.RsaSsaPssSha256)]
    public async Task Tokens_signed_with_published_rsa_keys_are_accepted(string algorithm)
    {
        var key = algorithm == SecurityAlgorithms.RsaSha256 ? rs256 : ps256;

        using var response = await app.GetWithTokenAsync(Tokens.Sign(TokenSpec.Valid(), key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_request_without_a_token_gets_a_challenge_without_an_error_code()
    {
        using var response = await app.Client.GetAsync(ProtectedApp.WhoAmI);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        await AssertUnauthorizedProblem(response);
    }

    [Fact]
    public async Task A_client_that_accepts_only_html_still_gets_the_401_challenge()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ProtectedApp.WhoAmI);
        request.Headers.Accept.ParseAdd("text/html");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer not-a-jwt");

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_is_refused_as_malformed() =>
        await AssertRefused("not-a-jwt", "malformed");

    [Fact]
    public async Task An_unsigned_alg_none_token_is_refused() =>
        await AssertRefused(Tokens.AlgNone(TokenSpec.Valid(), es256.Kid), "invalid_signature");

    [Fact]
    public async Task An_HS256_token_keyed_with_the_public_key_is_refused()
    {
        var publicKeyAsSecret = new SymmetricSecurityKey(es256.PublicKeyPem()) { KeyId = es256.Kid };

        await AssertRefused(Tokens.Sign(TokenSpec.Valid(), new SigningCredentials(publicKeyAsSecret, SecurityAlgorithms.HmacSha256)), "invalid_signature");
    }

    [Fact]
    public async Task A_token_whose_payload_was_swapped_after_signing_is_refused()
    {
        var victim = Tokens.Sign(TokenSpec.Valid(), es256);
        var attacker = Tokens.Sign(TokenSpec.Valid(), es256);

        await AssertRefused(Tokens.WithPayloadOf(attacker, victim), "invalid_signature");
    }

    [Fact]
    public async Task A_token_signed_by_a_foreign_key_under_a_published_kid_is_refused() =>
        await AssertRefused(Tokens.Sign(TokenSpec.Valid(), TestSigningKey.Es256(es256.Kid)), "invalid_signature");

    [Fact]
    public async Task A_token_with_an_unknown_kid_is_refused_after_one_look_at_the_current_keys()
    {
        await AssertRefused(Tokens.Sign(TokenSpec.Valid(), TestSigningKey.Es256()), "unknown_kid");

        Assert.Equal(2, jwks.Fetches); // the keys at start, and one refetch in case the kid was new
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var expired = TokenSpec.Valid() with { NotBefore = DateTime.UtcNow.AddMinutes(-20), Expires = DateTime.UtcNow.AddMinutes(-10) };

        await AssertRefused(Tokens.Sign(expired, es256), "expired");
    }

    [Fact]
    public async Task A_token_that_is_not_valid_yet_is_refused()
    {
        var future = TokenSpec.Valid() with { NotBefore = DateTime.UtcNow.AddMinutes(10), Expires = DateTime.UtcNow.AddMinutes(20) };

        await AssertRefused(Tokens.Sign(future, es256), "not_yet_valid");
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_refused() =>
        await AssertRefused(Tokens.Sign(TokenSpec.Valid() with { Issuer = "https://evil.example" }, es256), "invalid_issuer");

    [Fact]
    public async Task A_token_for_another_audience_is_refused() =>
        await AssertRefused(Tokens.Sign(TokenSpec.Valid() with { Audience = "billing" }, es256), "invalid_audience");

    [Fact]
    public async Task A_signed_token_without_a_session_id_is_refused_as_malformed() =>
        await AssertRefused(Tokens.Sign(TokenSpec.Valid() with { SessionId = null }, es256), "malformed");

    private async Task AssertRefused(string token, string reason)
    {
        using var response = await app.GetWithTokenAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.StartsWith("error=\"invalid_token\", error_description=\"", challenge.Parameter, StringComparison.Ordinal);
        await AssertUnauthorizedProblem(response);
        Assert.Equal(1, await app.FailuresAsync(reason));
    }

    private static async Task AssertUnauthorizedProblem(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(ProblemTypes.Unauthorized, problem.GetProperty("type").GetString());
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
    }
}
