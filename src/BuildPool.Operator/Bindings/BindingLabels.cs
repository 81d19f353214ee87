namespace BuildPool.Operator.Bindings;

/// <summary>Labels on a client certificate Secret that say which binding issued it (it lives in another namespace, so no owner reference can).</summary>
public static class BindingLabels
{
    public const string Binding = "buildpool.dev/binding";
    public const string BindingNamespace = "buildpool.dev/binding-namespace";

    /// <summary>Finalizer on a ClientAccess binding: deleting the binding deletes the issued Secret first.</summary>
    public const string Finalizer = "buildpool.dev/secret-binding";
}
