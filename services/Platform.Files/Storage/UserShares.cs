namespace Platform.Files.Storage;

/// <summary>
/// How many of an instance's bounded places (upload or download slots) each user holds, running or waiting, so that
/// no one user's requests take them all: a user at <see cref="PerUser"/> is refused at once, before waiting.
/// </summary>
internal sealed class UserShares(int perUser)
{
    private readonly Dictionary<Guid, int> held = [];

    public int PerUser { get; } = perUser;

    public bool TryTake(Guid user)
    {
        lock (held)
        {
            var count = held.GetValueOrDefault(user);
            if (count >= PerUser)
            {
                return false;
            }
            held[user] = count + 1;
            return true;
        }
    }

    public void Give(Guid user)
    {
        lock (held)
        {
            var count = held[user] - 1;
            if (count == 0)
            {
                held.Remove(user);
            }
            else
            {
                held[user] = count;
            }
        }
    }
}
