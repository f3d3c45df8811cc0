using System.Net;
using System.Text;

namespace Platform.Gateway.Tests;

/// <summary>Forward authentication as the ingress asks for it: through the gateway's <c>/api/auth/verify</c>.</summary>
[Collection(GatewayPlatformCollection.Name)]
public sealed class ForwardAuthTests(GatewayPlatform platform)
{
    /// <summary>
    /// Auth writes the caller's address in UTF-8; through the gateway it arrived as Latin-1 and Kestrel refused to send
    /// it: a 502 for every request of such a user to an app behind forward auth.
    /// </summary>
    [Theory]
    [InlineData("plain-{0}@example.org")]
    [InlineData("jörg-{0}@exämple.org")]
    public async Task The_callers_address_reaches_the_ingress_as_utf8_through_the_gateway(string address)
    {
        var email = string.Format(System.Globalization.CultureInfo.InvariantCulture, address, Guid.NewGuid().ToString("N"));
        var user = await platform.SignUpAsync(email);
        using var client = new HttpClient(new SocketsHttpHandler { ResponseHeaderEncodingSelector = (_, _) => Encoding.UTF8 });

        using var request = platform.Request(HttpMethod.Get, "/api/auth/verify", user.ClientAddress, user.AccessToken);
        using var answer = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(email, Assert.Single(answer.Headers.GetValues("X-User-Email")));
        Assert.Equal(user.UserId, Assert.Single(answer.Headers.GetValues("X-User-Id")));
    }
}
