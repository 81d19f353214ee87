namespace BuildPool.Api.V1Alpha1;

/// <summary>The API group and version of every kind in this namespace.</summary>
public static class GroupVersion
{
    /// <summary>API group.</summary>
    public const string Group = "buildpool.dev";

    /// <summary>API version within the group.</summary>
    public const string Version = "v1alpha1";

    /// <summary>The <c>apiVersion</c> field value: group/version.</summary>
    public const string ApiVersion = Group + "/" + Version;

    /// <summary>The kubectl category shared by all kinds (<c>kubectl get buildpool</c>).</summary>
    public const string Category = "buildpool";
}
