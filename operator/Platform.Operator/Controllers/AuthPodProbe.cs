using System.Net.Http.Json;
using System.Text.Json;
using k8s.Models;
using Platform.Contracts.Keys;
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
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        var host = ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]" : ip;
        var report = await ReadAsync(http, new Uri($"http://{host}:{port}/internal/keyset"), name, timeout.Token);
        cancellationToken.ThrowIfCancellationRequested();
        return report;
    }

    /// <summary>
    /// Auth's own account (<see cref="KeysetReport"/>) of the keyset it has loaded, for the controller and the
    /// <c>keys</c> CLI alike: by its kids when it lists them, else by its version. An auth that does not answer,
    /// or answers something else, counts as lagging.
    /// </summary>
    public static async Task<AuthPodReport> ReadAsync(HttpClient http, Uri url, string pod, CancellationToken cancellationToken)
    {
        try
        {
            return await http.GetFromJsonAsync<KeysetReport>(url, cancellationToken) is { } report
                ? new AuthPodReport(pod, report.Version, report.Kids?.ToHashSet(StringComparer.Ordinal))
                : new AuthPodReport(pod, LoadedVersion: null);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or JsonException or InvalidOperationException or NotSupportedException)
        {
            return new AuthPodReport(pod, LoadedVersion: null);
        }
    }
}
