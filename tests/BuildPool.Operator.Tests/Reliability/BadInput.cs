namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// One invalid resource and the answer it must get: refused by the API server's schema
/// validation (<see cref="Answer.Rejected"/>, 422, or 400 for unknown fields under
/// <c>fieldValidation=Strict</c> as kubectl sends it), or accepted and then set <c>Stalled</c> by the
/// operator (<see cref="Answer.Stalled"/>). Either way the answer names <see cref="Field"/>.
/// </summary>
internal sealed record BadInput(string Sentence, string Plural, string Yaml, string Field, BadInput.Answer Expected, int Status = 422)
{
    internal enum Answer
    {
        Rejected,
        Stalled,
    }
}
