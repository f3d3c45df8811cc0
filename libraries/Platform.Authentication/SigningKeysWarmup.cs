using Microsoft.Extensions.Hosting;

namespace Platform.Authentication;

/// <summary>
/// Creates the signing-key source at start, so a misconfiguration (no <c>Auth:JwksUri</c>) fails the pod
/// instead of its first request, and starts loading the keys, so the first requests do not wait for them.
/// It does not wait for the keys: a service must be able to start while the issuer is still starting.
/// </summary>
internal sealed class SigningKeysWarmup(ISigningKeySource keySource) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = LoadAsync();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task LoadAsync()
    {
        try
        {
            await keySource.GetKeysAsync(CancellationToken.None);
        }
        catch (SigningKeysUnavailableException)
        {
            // Logged by the source; requests trigger the next attempt.
        }
    }
}
