using Microsoft.EntityFrameworkCore;
using Platform.Messaging;

namespace Platform.Auth.Data;

public sealed class AuthDbContext(DbContextOptions<AuthDbContext> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();

    public DbSet<Session> Sessions => Set<Session>();

    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();

    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    public DbSet<AccountToken> AccountTokens => Set<AccountToken>();

    public DbSet<OutgoingMail> MailOutbox => Set<OutgoingMail>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddOutbox();
        modelBuilder.Entity<User>(user =>
        {
            user.ToTable("users");
            user.Property(u => u.Id).HasColumnName("id");
            user.Property(u => u.Email).HasColumnName("email");
            user.Property(u => u.EmailNormalized).HasColumnName("email_normalized");
            user.Property(u => u.Name).HasColumnName("name");
            user.Property(u => u.PasswordHash).HasColumnName("password_hash");
            user.Property(u => u.CreatedAt).HasColumnName("created_at");
            user.Property(u => u.Roles).HasColumnName("roles");
            user.Property(u => u.DisabledAt).HasColumnName("disabled_at");
            user.Property(u => u.EmailVerified).HasColumnName("email_verified");
            user.HasIndex(u => u.EmailNormalized).IsUnique().HasDatabaseName("users_email_normalized_key");
        });
        modelBuilder.Entity<Session>(session =>
        {
            session.ToTable("sessions");
            session.Property(s => s.Id).HasColumnName("id");
            session.Property(s => s.UserId).HasColumnName("user_id");
            session.Property(s => s.CreatedAt).HasColumnName("created_at");
            session.Property(s => s.LastActivityAt).HasColumnName("last_activity_at");
            session.Property(s => s.ExpiresAt).HasColumnName("expires_at");
            session.Property(s => s.RevokedAt).HasColumnName("revoked_at");
            session.Property(s => s.RevokedReason).HasColumnName("revoked_reason");
            session.Property(s => s.IpAddress).HasColumnName("ip_address");
            session.Property(s => s.Device).HasColumnName("device");
            session.HasOne<User>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<AuditEntry>(entry =>
        {
            entry.ToTable("audit_log");
            entry.Property(e => e.Id).HasColumnName("id").ValueGeneratedNever();
            entry.Property(e => e.OccurredAt).HasColumnName("occurred_at");
            entry.Property(e => e.ActorId).HasColumnName("actor_id");
            entry.Property(e => e.ActorEmail).HasColumnName("actor_email");
            entry.Property(e => e.Action).HasColumnName("action");
            entry.Property(e => e.TargetUserId).HasColumnName("target_user_id");
            entry.Property(e => e.ClientAddress).HasColumnName("client_ip");
            entry.Property(e => e.Details).HasColumnName("details").HasColumnType("jsonb");
        });
        modelBuilder.Entity<AccountToken>(token =>
        {
            token.ToTable("account_tokens");
            token.HasKey(t => t.Hash);
            token.Property(t => t.Hash).HasColumnName("hash");
            token.Property(t => t.UserId).HasColumnName("user_id");
            token.Property(t => t.Purpose).HasColumnName("purpose");
            token.Property(t => t.CreatedAt).HasColumnName("created_at");
            token.Property(t => t.ExpiresAt).HasColumnName("expires_at");
            token.Property(t => t.UsedAt).HasColumnName("used_at");
            token.HasOne<User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<OutgoingMail>(mail =>
        {
            mail.ToTable("mail_outbox");
            mail.Property(m => m.Id).HasColumnName("id").ValueGeneratedNever();
            mail.Property(m => m.MessageId).HasColumnName("message_id");
            mail.Property(m => m.Recipient).HasColumnName("recipient");
            mail.Property(m => m.Subject).HasColumnName("subject");
            mail.Property(m => m.TextBody).HasColumnName("text_body");
            mail.Property(m => m.HtmlBody).HasColumnName("html_body");
            mail.Property(m => m.CreatedAt).HasColumnName("created_at");
            mail.Property(m => m.Attempts).HasColumnName("attempts");
            mail.Property(m => m.NextAttemptAt).HasColumnName("next_attempt_at");
            mail.Property(m => m.LastError).HasColumnName("last_error");
        });
        modelBuilder.Entity<RefreshToken>(token =>
        {
            token.ToTable("refresh_tokens");
            token.HasKey(t => t.Hash);
            token.Property(t => t.Hash).HasColumnName("hash");
            token.Property(t => t.SessionId).HasColumnName("session_id");
            token.Property(t => t.CreatedAt).HasColumnName("created_at");
            token.Property(t => t.ExpiresAt).HasColumnName("expires_at");
            token.Property(t => t.SpentAt).HasColumnName("spent_at");
            token.HasOne<Session>().WithMany().HasForeignKey(t => t.SessionId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
