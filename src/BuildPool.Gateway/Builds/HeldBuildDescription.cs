namespace BuildPool.Gateway.Builds;

// What a held build waits for, in words for its Status stream. Called under the correlator's lock.
internal static class HeldBuildDescription
{
    public static string? Of(BuildUnit unit, RefRecord? record, SolveAdmission admission)
    {
        if (unit.Stage == BuildStage.Holding && unit.HeldOn is { } held)
        {
            return unit.HeldFor switch
            {
                BuildHoldKind.BuilderStart => $"starting builder {held}",
                BuildHoldKind.OverflowFork => $"making a fork of builder {held} (it is at capacity)",
                _ => $"making an isolated fork of builder {held}",
            };
        }

        if (unit.Route?.Backend is { } backend && record is { Gate.IsOpen: false, Ticket: { Admission.IsCompleted: false } ticket })
        {
            var ahead = admission.QueuedAhead(backend.Id, ticket);
            return $"waiting for a slot on builder {backend.Id} ({ahead} {(ahead == 1 ? "build" : "builds")} ahead)";
        }

        // Deciding (briefly), or its Solve is on its way: nothing worth showing.
        return null;
    }
}
