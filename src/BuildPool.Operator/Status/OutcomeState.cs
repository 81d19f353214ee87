namespace BuildPool.Operator.Status;

public enum OutcomeState
{
    Ready,
    Progressing,
    Stalled,
}
