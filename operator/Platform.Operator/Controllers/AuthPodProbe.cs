using System.Net.Http.Json;
using System.Text.Json;
using k8s.Models;
using Platform.Operator.Keys;

namespace Platform.Operator.Controllers;

/// <summary>Asks one auth pod which keyset version it has loaded.</summary>
public interface IAuthPodProbe
{
    Task<AuthPodReport> AskAsync(V1Pod pod, CancellationToken cancellationToken);
}

/// <summary>GET http://{podIP}:{port}/internal/keyset; a pod that does not answer in 2 s counts as lagging.</summary>
public sealed class HttpAuthPodProbe(HttpClient http, int port) : IAuthPodProbe
{
    public async Task<AuthPodReport> AskAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var name = pod.Metadata.Name;
        if (pod.Status?.PodIP is not { Length: > 0 } ip)
        {
            return new AuthPodReport(name, null);
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            var host = ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]" : ip;
            var report = await http.GetFromJsonAsync<JsonElement>(new Uri($"http://{host}:{port}/internal/keyset"), timeout.Token);
            var kids = report.TryGetProperty("kids", out var published) && published.ValueKind == JsonValueKind.Array
                ? published.EnumerateArray().Select(k => k.GetString() ?? "").ToHashSet(StringComparer.Ordinal)
                : null;
            return new AuthPodReport(name, report.GetProperty("version").GetInt64(), kids);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new AuthPodReport(name, null);
        }
    }
}
