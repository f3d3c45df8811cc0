using System.Globalization;

namespace Platform.Auth.Tests;

/// <summary>Reads one series from a service's Prometheus scrape.</summary>
public static class Scrape
{
    /// <summary>The value of <paramref name="series"/> (name and labels exactly as exported), or 0 when it has not been exported yet.</summary>
    public static async Task<double> ValueAsync(HttpClient service, string series)
    {
        ArgumentNullException.ThrowIfNull(service);
        var text = await service.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..].Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }
}
