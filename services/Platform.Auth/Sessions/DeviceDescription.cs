namespace Platform.Auth.Sessions;

/// <summary>
/// A short, human description of a session's client from its User-Agent — "Chrome on Windows", "Safari on iOS",
/// "curl" — so a user can tell their sessions apart. Only the browser and OS families: versions and the raw header
/// are not kept (they add fingerprinting detail and nothing a user needs to recognise a device).
/// </summary>
public static class DeviceDescription
{
    public const string Unknown = "Unknown device";

    /// <summary>Browsers by their marker, in order: Chromium-based browsers also claim Chrome and Safari, and Chrome claims Safari.</summary>
    private static readonly (string Marker, string Name)[] Browsers =
    [
        ("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"),
        ("OPR/", "Opera"), ("Opera", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Vivaldi/", "Vivaldi"),
        ("YaBrowser/", "Yandex Browser"),
        ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];

    /// <summary>Operating systems by their marker, in order: Android claims Linux, iOS claims "like Mac OS X".</summary>
    private static readonly (string Marker, string Name)[] Systems =
    [
        ("Windows", "Windows"),
        ("iPhone", "iOS"), ("iPad", "iPadOS"), ("iPod", "iOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Macintosh", "macOS"), ("Mac OS X", "macOS"),
        ("Linux", "Linux"), ("X11", "Unix"),
    ];

    /// <summary>Programs that name themselves first; described by that name alone.</summary>
    private static readonly (string Prefix, string Name)[] Tools =
    [
        ("curl/", "curl"), ("Wget/", "Wget"), ("PostmanRuntime/", "Postman"), ("python-requests/", "Python requests"),
        ("python-httpx/", "Python httpx"), ("okhttp/", "OkHttp"), ("Go-http-client/", "Go HTTP client"), ("node-fetch", "Node.js"),
        ("axios/", "axios"), ("HTTPie/", "HTTPie"), ("insomnia/", "Insomnia"),
    ];

    public static string FromUserAgent(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return Unknown;
        }
        foreach (var (prefix, name) in Tools)
        {
            if (userAgent.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return name;
            }
        }
        var browser = FirstMatch(userAgent, Browsers);
        // Safari/ is also in embedded web views; only a Version/ token makes it Safari itself.
        if (browser == "Safari" && !userAgent.Contains("Version/", StringComparison.Ordinal))
        {
            browser = null;
        }
        var system = FirstMatch(userAgent, Systems);
        return (browser, system) switch
        {
            (not null, not null) => $"{browser} on {system}",
            (not null, null) => browser,
            (null, not null) => $"App on {system}",
            _ => Unknown,
        };
    }

    private static string? FirstMatch(string userAgent, (string Marker, string Name)[] table)
    {
        foreach (var (marker, name) in table)
        {
            if (userAgent.Contains(marker, StringComparison.Ordinal))
            {
                return name;
            }
        }
        return null;
    }
}
