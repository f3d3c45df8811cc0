using Microsoft.IdentityModel.JsonWebTokens;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// make run's access tokens live a minute; a drill on a loaded machine can last longer. The load generators log a user
/// in again when, and only when, a 401 came for a token that had really expired.
/// </summary>
public static class AccessTokens
{
    public static bool Expired(PlatformUser user) => new JsonWebToken(user.AccessToken).ValidTo <= DateTime.UtcNow;

    /// <summary>A new token; while auth cannot give one (its database may be the fault), it waits and asks again.</summary>
    public static async Task<PlatformUser> LogInAgainAsync(ReliabilityPlatform platform, PlatformUser user, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                return await platform.LogInAsync(user.Email);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), stopping);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        return user;
    }
}
