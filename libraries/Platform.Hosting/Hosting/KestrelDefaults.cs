using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Platform.Hosting;

internal static class KestrelDefaults
{
    /// <summary>
    /// Tight defaults for a JSON API, overridable under Kestrel:Limits: small headers and bodies (an
    /// endpoint that streams files raises its own body limit), slow request headers cut off, no Server header.
    /// </summary>
    public static void ConfigurePlatformKestrel(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel((context, options) =>
        {
            options.AddServerHeader = false;
            options.Limits.MaxRequestBodySize = 1024 * 1024;
            options.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            options.Limits.MaxRequestHeaderCount = 64;
            options.Limits.MaxRequestLineSize = 8 * 1024;
            options.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            options.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(75);
            options.Limits.Http2.MaxRequestHeaderFieldSize = 16 * 1024;
            context.Configuration.GetSection("Kestrel:Limits").Bind(options.Limits);
        });
    }
}
