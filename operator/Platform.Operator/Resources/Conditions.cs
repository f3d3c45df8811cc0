using k8s.Models;

namespace Platform.Operator.Resources;

/// <summary>
/// Conditions as k8s.io/apimachinery's meta.SetStatusCondition keeps them: one per type, and
/// lastTransitionTime moves only when the status flips.
/// </summary>
public static class Conditions
{
    public const string True = "True";
    public const string False = "False";

    public static IList<V1Condition> Set(IList<V1Condition>? existing, string type, bool status, string reason, string message, long? generation, DateTimeOffset now)
    {
        var list = existing?.ToList() ?? [];
        var value = status ? True : False;
        var current = list.FirstOrDefault(c => c.Type == type);
        var transition = current is not null && current.Status == value ? current.LastTransitionTime : now.UtcDateTime;
        list.RemoveAll(c => c.Type == type);
        list.Add(new V1Condition
        {
            Type = type,
            Status = value,
            Reason = reason,
            Message = message,
            ObservedGeneration = generation,
            LastTransitionTime = transition,
        });
        return list.OrderBy(c => c.Type, StringComparer.Ordinal).ToList();
    }

    public static bool IsTrue(IEnumerable<V1Condition>? conditions, string type) => conditions?.Any(c => c.Type == type && c.Status == True) ?? false;
}
