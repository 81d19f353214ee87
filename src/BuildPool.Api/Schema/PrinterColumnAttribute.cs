namespace BuildPool.Api.Schema;

/// <summary>
/// An <c>additionalPrinterColumns</c> entry for <c>kubectl get</c>. Columns appear in
/// declaration order; priority 0 shows by default, higher only with <c>-o wide</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class PrinterColumnAttribute(string name, string jsonPath, string type, int priority = 0) : Attribute
{
    /// <summary>Column header.</summary>
    public string Name { get; } = name;

    /// <summary>Simple JSONPath into the object, e.g. <c>.status.phase</c>.</summary>
    public string JsonPath { get; } = jsonPath;

    /// <summary>OpenAPI type of the column: string, integer, number, boolean or date.</summary>
    public string Type { get; } = type;

    /// <summary>0 for the default view, higher for <c>-o wide</c>.</summary>
    public int Priority { get; } = priority;

    /// <summary>Optional column description.</summary>
    public string? Description { get; init; }

    /// <summary>Optional OpenAPI format, e.g. <c>date-time</c>.</summary>
    public string? Format { get; init; }
}
