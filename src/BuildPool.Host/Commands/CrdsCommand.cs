using System.CommandLine;
using BuildPool.Api.Schema;

namespace BuildPool.Host.Commands;

/// <summary><c>buildpool crds --out crds/</c>: writes the CRDs generated from the API types.</summary>
public static class CrdsCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory to write the CRD YAML files to.", DefaultValueFactory = _ => new DirectoryInfo("crds") };
        var copies = new Option<DirectoryInfo[]>("--copy-to") { Description = "Also write a copy into this directory (the Helm chart's crds/, kustomize's config/crd/bases); repeatable.", AllowMultipleArgumentsPerToken = false };
        var command = new Command("crds", "Generate the CustomResourceDefinitions from the API types.") { output, copies };
        command.SetAction(parse =>
        {
            var files = CrdGenerator.GenerateYamlFiles();
            foreach (var dir in new[] { parse.GetValue(output)! }.Concat(parse.GetValue(copies) ?? []))
            {
                var written = Write(dir, files);
                Console.WriteLine($"wrote {written} files to {dir.FullName}");
            }

            return 0;
        });
        return command;
    }

    /// <summary>Writes the files and removes generated YAML that no longer has a type behind it.</summary>
    public static int Write(DirectoryInfo directory, IReadOnlyDictionary<string, string> files)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(files);
        directory.Create();
        foreach (var stale in directory.GetFiles("*.yaml").Where(f => !files.ContainsKey(f.Name)))
        {
            stale.Delete();
        }

        foreach (var (name, text) in files)
        {
            var path = Path.Combine(directory.FullName, name);
            if (!File.Exists(path) || File.ReadAllText(path) != text)
            {
                File.WriteAllText(path, text);
            }
        }

        return files.Count;
    }
}
