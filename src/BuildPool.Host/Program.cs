using System.CommandLine;
using BuildPool.Host.Commands;

var root = new RootCommand("BuildPool: pools of BuildKit builders with persistent caches, and a gateway that routes builds to warm builders.");
root.Subcommands.Add(OperatorCommand.Create());
root.Subcommands.Add(GatewayCommand.Create());
root.Subcommands.Add(CrdsCommand.Create());
root.Subcommands.Add(LocalApiCommand.Create());
root.Subcommands.Add(DevCommand.Create());
root.Subcommands.Add(RenderCommand.Create());
root.Subcommands.Add(RegistryGcCommand.Create());
root.Subcommands.Add(LintCommand.Create());
root.Subcommands.Add(BuildsCommand.Create());
return await root.Parse(args).InvokeAsync();
