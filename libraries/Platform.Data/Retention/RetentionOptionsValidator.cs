using Microsoft.Extensions.Options;

namespace Platform.Data.Retention;

/// <summary>
/// Refuses, at start, a horizon below its rule's minimum and a horizon for a table this service has no rule for
/// (a typo would otherwise silently keep the default).
/// </summary>
internal sealed class RetentionOptionsValidator(IEnumerable<RetentionRule> rules) : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        var failures = new List<string>();
        var byTable = rules.ToDictionary(rule => rule.Table);
        foreach (var table in options.Horizons.Keys.Where(table => !byTable.ContainsKey(table)))
        {
            failures.Add($"Retention:Horizons:{table} names no table this service retains (it retains: {string.Join(", ", byTable.Keys.Order())}).");
        }
        foreach (var rule in byTable.Values)
        {
            var horizon = HorizonOf(options, rule);
            if (horizon < rule.MinimumHorizon)
            {
                failures.Add($"Retention:Horizons:{rule.Table} is {horizon}, below its minimum of {rule.MinimumHorizon}: {rule.Reason}");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static TimeSpan HorizonOf(RetentionOptions options, RetentionRule rule) =>
        options.Horizons.GetValueOrDefault(rule.Table, rule.DefaultHorizon);
}
