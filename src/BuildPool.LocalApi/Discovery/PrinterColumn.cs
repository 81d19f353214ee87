namespace BuildPool.LocalApi.Discovery;

/// <summary>A column of <c>kubectl get</c> output: a CRD's additionalPrinterColumn or a built-in default.</summary>
internal sealed record PrinterColumn(string Name, string Type, string JsonPath, string? Format = null, string? Description = null, int Priority = 0);
