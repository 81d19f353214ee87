namespace BuildPool.TestDoubles.Attacks;

/// <summary>
/// One hostile client's attack on a gateway. <see cref="RunAsync"/> opens what the attack opens,
/// signals <c>armed</c> once it is all in place (or the gateway refused it), then holds it open
/// until its token is cancelled, and returns what the gateway did with it.
/// </summary>
/// <param name="Name">Short name, e.g. <c>huge-refs</c>.</param>
/// <param name="What">What the attacker does, in a sentence.</param>
/// <param name="ShortCount">How many calls or connections in the normal suite.</param>
/// <param name="LongCount">How many in <c>make chaos</c> and the benchmark: the size the issue says would exhaust an unprotected gateway.</param>
/// <param name="RunAsync">(client, count, armed, token) to the tally.</param>
public sealed record GatewayAttack(
    string Name,
    string What,
    int ShortCount,
    int LongCount,
    Func<AttackClient, int, TaskCompletionSource, CancellationToken, Task<AttackTally>> RunAsync)
{
    public override string ToString() => Name;
}
