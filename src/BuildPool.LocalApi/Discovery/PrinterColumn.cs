namespace BuildPool.LocalApi.Discovery;

/// <summary>A column of <c>kubectl get</c> output: a CRD's additionalPrinterColumn or a built-in default.</summary>
internal sealed record PrinterColumn(string Name, string Type, string JsonPath, string? Format = null, string? Description = null, int Priority = 0)
{
    /// <summary>For built-ins whose cell is not a plain path, such as a Deployment's <c>READY 1/2</c>.</summary>
    public Func<System.Text.Json.Nodes.JsonObject, System.Text.Json.Nodes.JsonNode?>? Compute { get; init; }
}
