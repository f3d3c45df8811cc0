using Microsoft.EntityFrameworkCore;
using Platform.Contracts.Events;

namespace Platform.Messaging;

/// <summary>
/// The outbox for services that write with EF Core: events added to a context are inserted by the same
/// <c>SaveChangesAsync</c> (one transaction) as the changes they describe.
/// </summary>
public static class OutboxEntityFrameworkExtensions
{
    /// <summary>
    /// Maps <see cref="OutboxMessage"/> to the <c>outbox</c> table, which <see cref="MessagingSchema"/> creates: EF Core
    /// leaves it out of anything it would create.
    /// </summary>
    public static ModelBuilder AddOutbox(this ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<OutboxMessage>(entity =>
        {
            entity.ToTable("outbox", table => table.ExcludeFromMigrations());
            entity.HasKey(message => message.Id);
            entity.Property(message => message.Id).HasColumnName("id").ValueGeneratedNever();
            entity.Property(message => message.Type).HasColumnName("type");
            entity.Property(message => message.Source).HasColumnName("source");
            entity.Property(message => message.CorrelationId).HasColumnName("correlation_id");
            entity.Property(message => message.OccurredAt).HasColumnName("occurred_at");
            entity.Property(message => message.Data).HasColumnName("data").HasColumnType("jsonb");
        });
        return modelBuilder;
    }

    /// <summary>Adds an event to be written by the next <c>SaveChangesAsync</c>, with the changes it describes.</summary>
    public static void AddEvent(this DbContext context, IntegrationEvent integrationEvent)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Model.FindEntityType(typeof(OutboxMessage)) is null)
        {
            throw new InvalidOperationException($"{context.GetType().Name} has no outbox: call modelBuilder.AddOutbox() in OnModelCreating.");
        }
        context.Set<OutboxMessage>().Add(OutboxMessage.From(integrationEvent));
    }
}
