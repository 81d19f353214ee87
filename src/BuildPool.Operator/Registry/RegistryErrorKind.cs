namespace BuildPool.Operator.Registry;

/// <summary>What went wrong talking to a registry, in the words a status condition uses.</summary>
public enum RegistryErrorKind
{
    /// <summary>No connection: refused, unknown host, TLS failure or timeout.</summary>
    Unreachable,

    /// <summary>401 or 403 from the registry or its token service, after trying the credentials.</summary>
    Unauthorized,

    /// <summary>405 on a manifest DELETE: the registry was started without deletes enabled.</summary>
    DeleteDisabled,

    /// <summary>404 for a repository, tag or manifest.</summary>
    NotFound,

    /// <summary>Anything else: a 5xx, an unexpected status or an unreadable answer.</summary>
    Failed,
}
