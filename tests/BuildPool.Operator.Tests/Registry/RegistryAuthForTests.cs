namespace BuildPool.Operator.Tests.Registry;

/// <summary>The user the real registry's htpasswd file holds.</summary>
internal sealed record RegistryAuthForTests(string User, string Password);
