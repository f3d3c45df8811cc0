using System.Net;
using Platform.Hosting.Http;

namespace Platform.Libraries.Tests;

public sealed class ClientScopeTests
{
    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")] // a dual-stack socket's view of an IPv4 client
    [InlineData("64:ff9b::cb00:7109", "203.0.113.9")] // an IPv4 client through NAT64
    [InlineData("2001:db8:1:2::1", "20010db800010002/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "20010db800010002/64")] // the same subscriber's /64
    [InlineData("2001:db8:1:3::1", "20010db800010003/64")]
    public void A_client_is_limited_by_its_ipv4_address_or_its_ipv6_slash_64(string address, string scope) =>
        Assert.Equal(scope, ClientScope.Of(IPAddress.Parse(address)));

    [Fact]
    public void A_client_without_an_address_is_one_scope() => Assert.Equal("unknown", ClientScope.Of(null));
}
