using Microsoft.EntityFrameworkCore;
using Platform.Messaging;

namespace Platform.Libraries.Tests.Messaging;

/// <summary>A service's EF Core model as it would look with the outbox: its own entities plus <c>AddOutbox()</c>.</summary>
public sealed class NotesContext(DbContextOptions<NotesContext> options) : DbContext(options)
{
    public const string CreateTableSql = "CREATE TABLE notes (id uuid PRIMARY KEY, text text NOT NULL)";

    public DbSet<Note> Notes => Set<Note>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Note>(note =>
        {
            note.ToTable("notes");
            note.HasKey(n => n.Id);
            note.Property(n => n.Id).HasColumnName("id").ValueGeneratedNever();
            note.Property(n => n.Text).HasColumnName("text");
        });
        modelBuilder.AddOutbox();
    }
}

public sealed class Note
{
    public required Guid Id { get; init; }

    public required string Text { get; set; }
}

/// <summary>The same model without the outbox, as a service that forgot <c>AddOutbox()</c> would have.</summary>
public sealed class ContextWithoutOutbox(DbContextOptions<ContextWithoutOutbox> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.Entity<Note>().ToTable("notes");
}
