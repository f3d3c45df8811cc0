using System.Globalization;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Platform.Operator.Kubernetes;

namespace Platform.Operator.Controllers;

/// <summary>events.k8s.io/v1 Events on the resource a human will <c>kubectl describe</c>. Best effort: an Event that cannot be written is logged, never retried.</summary>
public sealed class EventRecorder(IKubernetesApi api, string instance, TimeProvider clock, ILogger<EventRecorder> logger)
{
    public const string ReportingController = "platform.dev/operator";

    public async Task RecordAsync(IKubernetesObject<V1ObjectMeta> regarding, string reason, string note, bool warning, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var record = new Eventsv1Event
        {
            Metadata = new V1ObjectMeta { Name = $"{regarding.Metadata.Name}.{now.UtcTicks.ToString("x", CultureInfo.InvariantCulture)}" },
            EventTime = now.UtcDateTime,
            Reason = reason,
            Note = note.Length > 1024 ? note[..1024] : note,
            Type = warning ? "Warning" : "Normal",
            Action = reason,
            ReportingController = ReportingController,
            ReportingInstance = instance,
            Regarding = new V1ObjectReference
            {
                ApiVersion = regarding.ApiVersion,
                Kind = regarding.Kind,
                Name = regarding.Metadata.Name,
                NamespaceProperty = regarding.Metadata.NamespaceProperty,
                Uid = regarding.Metadata.Uid,
            },
        };
        try
        {
            await api.CreateAsync(record, cancellationToken);
        }
        catch (KubernetesApiException exception)
        {
            logger.LogWarning("Event {Reason} on {Name} not recorded: {Message}", reason, regarding.Metadata.Name, exception.Message);
        }
        logger.LogInformation("{Kind} {Name}: {Reason}: {Note}", regarding.Kind, regarding.Metadata.Name, reason, note);
    }
}
