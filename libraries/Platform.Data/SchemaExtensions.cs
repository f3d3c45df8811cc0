using Microsoft.Extensions.DependencyInjection;

namespace Platform.Data;

public static class SchemaExtensions
{
    /// <summary>Registers a part of the service's schema for the <c>migrate</c> command; a component registered twice (messaging, by a producer and a consumer) counts once.</summary>
    public static IServiceCollection AddSchema(this IServiceCollection services, SchemaComponent component)
    {
        ArgumentNullException.ThrowIfNull(component);
        if (!services.Any(d => d.ServiceType == typeof(SchemaComponent) && d.ImplementationInstance is SchemaComponent registered && registered.Name == component.Name))
        {
            services.AddSingleton(component);
        }
        return services;
    }
}
