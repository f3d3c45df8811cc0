using System.Net.Http.Headers;
using k8s.Authentication;

namespace Platform.Operator.Kubernetes;

/// <summary>
/// A bearer token read from a file the kubelet rotates (projected service-account token). It is re-read
/// whenever the file's modification time changes, and on demand after a 401, so a rotated token is used on
/// the next request rather than up to a minute later.
/// </summary>
public sealed class ServiceAccountToken(string path) : ITokenProvider
{
    public const string InClusterPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";

    private readonly Lock gate = new();
    private string token = "";
    private DateTime readAt = DateTime.MinValue;

    public string Path { get; } = path;

    public async Task<AuthenticationHeaderValue> GetAuthenticationHeaderAsync(CancellationToken cancellationToken)
    {
        var modified = File.GetLastWriteTimeUtc(Path);
        lock (gate)
        {
            if (modified == readAt && token.Length > 0)
            {
                return new AuthenticationHeaderValue("Bearer", token);
            }
        }
        var text = (await File.ReadAllTextAsync(Path, cancellationToken)).Trim();
        lock (gate)
        {
            token = text;
            readAt = modified;
        }
        return new AuthenticationHeaderValue("Bearer", text);
    }

    /// <summary>Forces the next request to read the file again.</summary>
    public void Invalidate()
    {
        lock (gate)
        {
            token = "";
        }
    }
}
