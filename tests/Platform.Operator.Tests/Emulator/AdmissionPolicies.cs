using System.Text.Json;
using System.Text.Json.Nodes;
using Cel;

namespace Platform.Operator.Tests.Emulator;

/// <summary>
/// ValidatingAdmissionPolicies and their bindings (admissionregistration.k8s.io/v1), evaluated as the API server does
/// after authorization, with real CEL (the Cel package): a policy applies to a request its matchConstraints' resource
/// rules match, in a namespace its binding's namespaceSelector selects, when every matchCondition holds; with the
/// binding's Deny action, the first validation that is false refuses the request with its reason's status (Invalid
/// 422 by default, Forbidden 403) and its message. An expression that fails to evaluate refuses the request unless the
/// policy's failurePolicy is Ignore. Rules match "resource/subresource" for a subresource's request. Variables: object, oldObject and request (operation, userInfo.username, namespace,
/// name, resource); a Secret's type (absent or empty) defaults to Opaque first, as the API server defaults it before
/// admission. A refusal is worded as the API server's ("secrets \"x\" is forbidden: ValidatingAdmissionPolicy …"), and an
/// expression that cannot be evaluated refuses with reason Invalid (422).
/// What is not modelled (params, variables, audit annotations, object or label selectors beyond
/// kubernetes.io/metadata.name, the object of a patch that updates) fails loudly rather than passing.
/// </summary>
public sealed class AdmissionPolicies
{
    private readonly List<Policy> policies;

    private AdmissionPolicies(List<Policy> policies) => this.policies = policies;

    private sealed record Rule(string[] Groups, string[] Versions, string[] Operations, string[] Resources);

    /// <summary>A CEL expression, compiled once when the policy is read: one that does not compile is refused then, as the API server refuses the policy.</summary>
    private sealed record Expression(string Text, CelProgramDelegate Program)
    {
        public static Expression Compile(string text)
        {
            try
            {
                return new Expression(text, new CelEnvironment(null, null).Compile(text));
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"the CEL expression '{text}' does not compile: {e.Message}", e);
            }
        }

        /// <summary>Its value, or the error when it cannot be evaluated: any failure of the evaluator, as the API server's would be.</summary>
        public (object? Value, string? Error) Evaluate(Dictionary<string, object?> variables)
        {
            try
            {
                return (Program(variables!), null);
            }
            catch (Exception e)
            {
                return (null, e.Message);
            }
        }
    }

    private sealed record Validation(Expression Expression, string? Message, Expression? MessageExpression, string Reason);

    private sealed record Policy(string Name, string Binding, string? Namespace, bool FailClosed, Rule[] Rules, (string Name, Expression Expression)[] Conditions, Validation[] Validations);

    /// <summary>The request refused: its HTTP status, Kubernetes reason and message.</summary>
    public sealed record Refusal(int Code, string Reason, string Message);

    public int Count => policies.Count;

    /// <summary>The policies of <paramref name="manifests"/> with a binding that denies (other kinds are ignored).</summary>
    public static AdmissionPolicies From(IEnumerable<JsonObject> manifests)
    {
        var all = manifests.ToList();
        var definitions = all.Where(m => Kind(m) == "ValidatingAdmissionPolicy").ToDictionary(m => m["metadata"]!["name"]!.GetValue<string>());
        var result = new List<Policy>();
        foreach (var binding in all.Where(m => Kind(m) == "ValidatingAdmissionPolicyBinding"))
        {
            var spec = binding["spec"]!.AsObject();
            Refuse(spec, "paramRef");
            var name = binding["metadata"]!["name"]!.GetValue<string>();
            if (!Strings(spec["validationActions"]).Contains("Deny") || !definitions.TryGetValue(spec["policyName"]!.GetValue<string>(), out var definition))
            {
                continue;
            }
            result.Add(Parse(definition, name, BoundNamespace(spec["matchResources"] as JsonObject)));
        }
        return new AdmissionPolicies(result);
    }

    /// <summary>
    /// The first policy that refuses the request, or null. <paramref name="operation"/> is CREATE, UPDATE or DELETE;
    /// <paramref name="subject"/> is null for a DELETE, and for an UPDATE whose result is not known here (a patch).
    /// </summary>
    public Refusal? Check(string operation, string group, string version, string resource, string? subresource, string @namespace, string? name,
        string user, JsonObject? subject, JsonObject? oldObject)
    {
        var matched = subresource is null ? resource : $"{resource}/{subresource}";
        foreach (var policy in policies.Where(p => Applies(p, operation, group, version, matched, @namespace)))
        {
            if (subject is null && operation != "DELETE")
            {
                throw new NotSupportedException($"ValidatingAdmissionPolicy {policy.Name} matches {operation} of {resource}, whose object the emulator does not compute (a patch)");
            }
            var variables = Variables(operation, group, version, resource, @namespace, name, user, subject, oldObject);
            if (Validate(policy, group.Length == 0 ? resource : $"{resource}.{group}", name, variables) is { } refusal)
            {
                return refusal;
            }
        }
        return null;
    }

    /// <summary>The policy's refusal of the request, or null when a matchCondition is false or every validation holds.</summary>
    private static Refusal? Validate(Policy policy, string resource, string? name, Dictionary<string, object?> variables)
    {
        foreach (var (conditionName, expression) in policy.Conditions)
        {
            var matches = Decide(expression, variables);
            if (matches is false || (matches is string && !policy.FailClosed))
            {
                return null;
            }
            if (matches is string error)
            {
                return Deny(policy, resource, name, "Invalid", $"failed to evaluate matchCondition {conditionName}: {error}");
            }
        }
        foreach (var validation in policy.Validations)
        {
            var outcome = Decide(validation.Expression, variables);
            if (outcome is true || (outcome is string && !policy.FailClosed))
            {
                continue;
            }
            if (outcome is string error)
            {
                return Deny(policy, resource, name, "Invalid", $"expression '{validation.Expression.Text}' resulted in error: {error}");
            }
            // A messageExpression that fails or is not a string falls back to the message, as the API server does.
            var message = validation.MessageExpression?.Evaluate(variables).Value as string
                ?? validation.Message ?? $"failed expression: {validation.Expression.Text}";
            return Deny(policy, resource, name, validation.Reason, message);
        }
        return null;
    }

    /// <summary>The API server's refusal: always worded as Forbidden, with the status of the reason (Invalid: 422).</summary>
    private static Refusal Deny(Policy policy, string qualifiedResource, string? name, string reason, string message)
    {
        var code = reason switch { "Forbidden" => 403, "Unauthorized" => 401, "RequestEntityTooLarge" => 413, _ => 422 };
        return new Refusal(code, reason,
            $"{qualifiedResource} \"{name}\" is forbidden: ValidatingAdmissionPolicy '{policy.Name}' with binding '{policy.Binding}' denied request: {message}");
    }

    private static bool Applies(Policy policy, string operation, string group, string version, string resource, string @namespace) =>
        (policy.Namespace is null || @namespace == "" || policy.Namespace == @namespace)
        && policy.Rules.Any(r => Has(r.Groups, group) && Has(r.Versions, version) && Has(r.Operations, operation) && Has(r.Resources, resource));

    private static bool Has(string[] values, string value) => values.Contains("*") || values.Contains(value);

    /// <summary>true or false, or the error (a message) when the expression cannot be evaluated to a bool.</summary>
    private static object Decide(Expression expression, Dictionary<string, object?> variables) => expression.Evaluate(variables) switch
    {
        (_, { } error) => error,
        (bool value, _) => value,
        (var other, _) => $"expected a bool, got {other?.GetType().Name ?? "null"}",
    };

    private static Dictionary<string, object?> Variables(string operation, string group, string version, string resource, string @namespace,
        string? name, string user, JsonObject? subject, JsonObject? oldObject)
    {
        if (resource == "secrets" && subject is not null && subject["type"]?.GetValue<string>() is null or "")
        {
            subject = subject.DeepClone().AsObject();
            subject["type"] = "Opaque";
        }
        return new Dictionary<string, object?>
        {
            ["object"] = Value(subject),
            ["oldObject"] = Value(oldObject),
            ["params"] = null,
            ["request"] = new Dictionary<string, object?>
            {
                ["operation"] = operation,
                ["userInfo"] = new Dictionary<string, object?> { ["username"] = user },
                ["namespace"] = @namespace,
                ["name"] = name ?? "",
                ["resource"] = new Dictionary<string, object?> { ["group"] = group, ["version"] = version, ["resource"] = resource },
            },
        };
    }

    /// <summary>JSON as CEL sees it: maps, lists, strings, bools, ints (long) and doubles.</summary>
    private static object? Value(JsonNode? node) => node switch
    {
        null => null,
        JsonObject map => map.ToDictionary(p => p.Key, p => Value(p.Value)),
        JsonArray list => list.Select(Value).ToList(),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when value.TryGetValue<long>(out var integer) => integer,
            JsonValueKind.Number => value.GetValue<double>(),
            _ => null,
        },
        _ => null,
    };

    private static Policy Parse(JsonObject definition, string binding, string? @namespace)
    {
        var spec = definition["spec"]!.AsObject();
        Refuse(spec, "paramKind", "variables", "auditAnnotations");
        var constraints = spec["matchConstraints"]!.AsObject();
        Refuse(constraints, "namespaceSelector", "objectSelector", "excludeResourceRules");
        var rules = constraints["resourceRules"]!.AsArray().Select(r =>
        {
            Refuse(r!.AsObject(), "resourceNames", "scope");
            return new Rule(Strings(r["apiGroups"]), Strings(r["apiVersions"]), Strings(r["operations"]), Strings(r["resources"]));
        }).ToArray();
        var conditions = (spec["matchConditions"] as JsonArray ?? [])
            .Select(c => (c!["name"]!.GetValue<string>(), Expression.Compile(c["expression"]!.GetValue<string>()))).ToArray();
        var validations = spec["validations"]!.AsArray().Select(v => new Validation(Expression.Compile(v!["expression"]!.GetValue<string>()),
            v["message"]?.GetValue<string>(), v["messageExpression"]?.GetValue<string>() is { } message ? Expression.Compile(message) : null,
            v["reason"]?.GetValue<string>() ?? "Invalid")).ToArray();
        var failClosed = spec["failurePolicy"]?.GetValue<string>() != "Ignore";
        return new Policy(definition["metadata"]!["name"]!.GetValue<string>(), binding, @namespace, failClosed, rules, conditions, validations);
    }

    /// <summary>The one namespace a binding's matchResources selects by its kubernetes.io/metadata.name label; null: any.</summary>
    private static string? BoundNamespace(JsonObject? matchResources)
    {
        if (matchResources is null)
        {
            return null;
        }
        Refuse(matchResources, "objectSelector", "resourceRules", "excludeResourceRules", "matchPolicy");
        var selector = matchResources["namespaceSelector"] as JsonObject;
        if (selector is null)
        {
            return null;
        }
        Refuse(selector, "matchExpressions");
        var labels = selector["matchLabels"] as JsonObject ?? [];
        if (labels.Any(l => l.Key != "kubernetes.io/metadata.name"))
        {
            throw new NotSupportedException($"namespaceSelector on labels the emulator's namespaces do not have: {labels.ToJsonString()}");
        }
        return labels["kubernetes.io/metadata.name"]?.GetValue<string>();
    }

    private static void Refuse(JsonObject json, params string[] fields)
    {
        if (fields.FirstOrDefault(json.ContainsKey) is { } field)
        {
            throw new NotSupportedException($"the emulator's admission policies do not model {field}");
        }
    }

    private static string[] Strings(JsonNode? node) => (node as JsonArray ?? []).Select(n => n!.GetValue<string>()).ToArray();

    private static string? Kind(JsonObject manifest) => manifest["kind"]?.GetValue<string>();
}
