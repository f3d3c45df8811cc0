using System.Globalization;
using System.Net.Http.Json;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Platform.Authentication;
using Platform.Redis;

using Platform.Testing;

namespace Platform.Libraries.Tests.Authentication;

/// <summary>
/// A service that calls <c>AddPlatformAuthentication()</c>, trusting <see cref="JwksServer"/>, with one
/// protected endpoint that answers who the caller is.
/// </summary>
internal static class ProtectedApp
{
    public const string WhoAmI = "/whoami";

    public sealed record Caller(Guid UserId, Guid SessionId, string? Email);

    public static Task<TestApp> StartAsync(JwksServer jwks, string redisConnectionString, IReadOnlyDictionary<string, string>? settings = null) =>
        TestApp.StartAsync(builder =>
        {
            builder.Configuration["ConnectionStrings:Redis"] = redisConnectionString;
            builder.Configuration["Auth:Issuer"] = TokenSpec.TrustedIssuer;
            builder.Configuration["Auth:JwksUri"] = jwks.JwksUri.ToString();
            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            {
                builder.Configuration[key] = value;
            }
            builder.AddPlatformRedis();
            builder.AddPlatformAuthentication();
        },
        map: web => web.MapGet(WhoAmI, (ClaimsPrincipal user) => new Caller(user.UserId(), user.SessionId(), user.Email())).RequireAuthorization());

    public static async Task<HttpResponseMessage> GetWithTokenAsync(this TestApp app, string token, string path = WhoAmI)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return await app.Client.SendAsync(request);
    }

    public static async Task<int> StatusWithTokenAsync(this TestApp app, string token)
    {
        using var response = await app.GetWithTokenAsync(token);
        return (int)response.StatusCode;
    }

    public static async Task<Caller> CallerAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<Caller>())!;

    /// <summary>The value of one sample on the app's /metrics page (0 when it has not been recorded yet).</summary>
    public static async Task<double> MetricAsync(this TestApp app, string name, string? label = null, string? value = null)
    {
        var wanted = label is null ? null : $"{label}=\"{value}\"";
        foreach (var line in (await app.Client.GetStringAsync("/metrics")).Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal) && wanted is null
                || line.StartsWith(name + "{", StringComparison.Ordinal) && (wanted is null || line.Contains(wanted, StringComparison.Ordinal)))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    public static Task<double> FailuresAsync(this TestApp app, string reason) =>
        app.MetricAsync("auth_token_validation_failures_total", "reason", reason);

    public static Task<double> CacheRequestsAsync(this TestApp app, string result) =>
        app.MetricAsync("token_cache_requests_total", "result", result);
}
