using Yarp.ReverseProxy.Configuration;

namespace Platform.Gateway.ApiDocs;

/// <summary>
/// Which configured route the gateway would pick for an upstream's operation: the path template's segments against the
/// route's pattern (a parameter in the template matches only a route parameter or catch-all, never a literal), the
/// method against the route's methods, and among several matches the most specific, as endpoint routing orders them.
/// </summary>
public sealed class RouteTable(IEnumerable<RouteConfig> routes)
{
    private readonly List<(RouteConfig Route, string[] Segments)> routes =
        [.. routes.Where(r => r.Match.Path is not null)
            .Select(r => (r, Split(r.Match.Path!)))
            .OrderBy(r => r.r.Order ?? 0)
            .ThenByDescending(r => r.Item2.Count(IsLiteral))
            .ThenBy(r => r.Item2.Count(IsCatchAll))];

    public RouteConfig? Find(string method, string pathTemplate)
    {
        var path = Split(pathTemplate);
        foreach (var (route, pattern) in routes)
        {
            if ((route.Match.Methods is not { Count: > 0 } methods || methods.Contains(method, StringComparer.OrdinalIgnoreCase)) && Matches(pattern, path))
            {
                return route;
            }
        }
        return null;
    }

    private static bool Matches(string[] pattern, string[] path)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            if (IsCatchAll(pattern[i]))
            {
                return true;
            }
            if (i >= path.Length)
            {
                return false;
            }
            if (IsLiteral(pattern[i]) && (path[i].StartsWith('{') || !pattern[i].Equals(path[i], StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }
        return pattern.Length == path.Length;
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static bool IsLiteral(string segment) => !segment.StartsWith('{');

    private static bool IsCatchAll(string segment) => segment.StartsWith("{*", StringComparison.Ordinal);
}
