namespace Platform.Operator.Tests.Emulator;

/// <param name="ErrorRate">Fraction of requests answered with an error before anything happens: 500, or for writes 500 or 409.</param>
/// <param name="WatchLifetime">When set, each watch stream closes after a random time around this.</param>
/// <param name="Latency">Added to every request.</param>
public sealed record EmulatorFaults(double ErrorRate = 0, TimeSpan? WatchLifetime = null, TimeSpan Latency = default)
{
    public static readonly EmulatorFaults None = new();
}
