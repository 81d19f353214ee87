namespace BuildPool.LocalApi.Http;

/// <summary>A field-level validation error, formatted like apimachinery's <c>field.Error</c>.</summary>
internal sealed record FieldError(string Reason, string Field, string Detail)
{
    public override string ToString() => $"{Field}: {Detail}";
}
