namespace BuildPool.Api.Schema;

/// <summary>
/// <c>x-kubernetes-preserve-unknown-fields: true</c>: the API server keeps fields the schema
/// does not name. Only for fields that are free-form by nature.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class PreserveUnknownFieldsAttribute : Attribute;
