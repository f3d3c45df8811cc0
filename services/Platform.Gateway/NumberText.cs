using System.Globalization;

namespace Platform.Gateway;

/// <summary>
/// The text of a number that goes out with most requests (a status label, a rate-limit header): below 1,024 made
/// once at start, not once per request.
/// </summary>
internal static class NumberText
{
    private static readonly string[] Small = Enumerable.Range(0, 1024).Select(n => n.ToString(CultureInfo.InvariantCulture)).ToArray();

    public static string Of(long value) => value is >= 0 and < 1024 ? Small[value] : value.ToString(CultureInfo.InvariantCulture);
}
