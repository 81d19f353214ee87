using BuildPool.Lint.Parsing;

namespace BuildPool.Lint.Rules;

/// <summary>Recognizes package manager calls in a RUN's commands.</summary>
internal static class PackageManagers
{
    public static readonly PackageManager Apt = new("apt", "apt", ["/var/cache/apt", "/var/lib/apt"], "--mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt,sharing=locked");
    public static readonly PackageManager Apk = new("apk", "apk", ["/var/cache/apk", "/etc/apk/cache"], "--mount=type=cache,target=/var/cache/apk (and drop --no-cache; link /etc/apk/cache to it)");
    public static readonly PackageManager Pip = new("pip", "python", ["/root/.cache/pip"], "--mount=type=cache,target=/root/.cache/pip (and drop --no-cache-dir)");
    public static readonly PackageManager Poetry = new("poetry", "python", ["/root/.cache/pypoetry"], "--mount=type=cache,target=/root/.cache/pypoetry");
    public static readonly PackageManager Pipenv = new("pipenv", "python", ["/root/.cache/pipenv", "/root/.cache/pip"], "--mount=type=cache,target=/root/.cache/pipenv");
    public static readonly PackageManager Uv = new("uv", "python", ["/root/.cache/uv"], "--mount=type=cache,target=/root/.cache/uv");
    public static readonly PackageManager Npm = new("npm", "node", ["/root/.npm", "/home/node/.npm"], "--mount=type=cache,target=/root/.npm");
    public static readonly PackageManager Yarn = new("yarn", "node", ["/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/root/.yarn/berry/cache"], "--mount=type=cache,target=/usr/local/share/.cache/yarn");
    public static readonly PackageManager Pnpm = new("pnpm", "node", ["/root/.local/share/pnpm/store", "/root/.cache/pnpm", "/pnpm/store"], "--mount=type=cache,target=/root/.local/share/pnpm/store");
    public static readonly PackageManager Go = new("go", "go", ["/go/pkg/mod", "/root/go/pkg/mod", "/root/.cache/go-build"], "--mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build");
    public static readonly PackageManager Cargo = new("cargo", "rust", ["/usr/local/cargo/registry", "/usr/local/cargo/git", "/root/.cargo/registry", "/root/.cargo/git"], "--mount=type=cache,target=/usr/local/cargo/registry");
    public static readonly PackageManager Maven = new("maven", "maven", ["/root/.m2/repository"], "--mount=type=cache,target=/root/.m2");
    public static readonly PackageManager Gradle = new("gradle", "gradle", ["/root/.gradle/caches", "/home/gradle/.gradle/caches"], "--mount=type=cache,target=/root/.gradle");
    public static readonly PackageManager NuGet = new("nuget", "dotnet", ["/root/.nuget/packages"], "--mount=type=cache,target=/root/.nuget/packages");
    public static readonly PackageManager Bundler = new("bundler", "ruby", [], "");
    public static readonly PackageManager Composer = new("composer", "php", [], "");

    public static readonly IReadOnlyList<PackageManager> All = [Apt, Apk, Pip, Poetry, Pipenv, Uv, Npm, Yarn, Pnpm, Go, Cargo, Maven, Gradle, NuGet];

    private static readonly HashSet<string> Prefixes = new(StringComparer.Ordinal) { "sudo", "env", "time", "exec", "nice", "then", "do", "else", "if", "while", "until", "!", "{" };

    private static readonly HashSet<string> Shells = new(StringComparer.Ordinal) { "sh", "bash", "ash", "dash", "zsh" };

    /// <summary>The package manager calls of a RUN, from its shell form, exec form or shell here-documents.</summary>
    public static IReadOnlyList<PackageCommand> In(Instruction run, char escape)
    {
        ArgumentNullException.ThrowIfNull(run);
        return SimpleCommands(run, escape).Select(Recognize).OfType<PackageCommand>().ToList();
    }

    public static IEnumerable<IReadOnlyList<string>> SimpleCommands(Instruction run, char escape)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.ExecForm is { Count: > 0 } exec)
        {
            // ["sh", "-c", "script"] runs a script; anything else is one command.
            return exec.Count >= 3 && Shells.Contains(Path.GetFileName(exec[0])) && exec[1] == "-c"
                ? Split(ShellWords.Commands(exec[2], '\\'))
                : [exec];
        }

        var script = run.Arguments;
        foreach (var heredoc in run.Heredocs)
        {
            // RUN <<EOF (or RUN bash <<EOF) makes the body the script; RUN python3 <<EOF does not.
            var command = script.Replace("<<-", "<<", StringComparison.Ordinal).Split("<<", 2)[0].Trim();
            if (command.Length == 0 || Shells.Contains(Path.GetFileName(command.Split(' ')[0])))
            {
                script += "\n" + heredoc.Body;
            }
        }

        return Split(ShellWords.Commands(script, escape));
    }

    private static List<IReadOnlyList<string>> Split(IReadOnlyList<string> tokens)
    {
        var commands = new List<IReadOnlyList<string>>();
        var current = new List<string>();
        foreach (var token in tokens.Append(ShellWords.CommandBreak))
        {
            if (token == ShellWords.CommandBreak)
            {
                if (current.Count > 0)
                {
                    commands.Add(current);
                }

                current = [];
                continue;
            }

            // Leading variable assignments and wrappers do not change the command (FOO=1 sudo apt-get …).
            if (current.Count == 0 && (Prefixes.Contains(token) || (token.Contains('=', StringComparison.Ordinal) && !token.StartsWith('-'))))
            {
                continue;
            }

            current.Add(token);
        }

        return commands;
    }

    private static PackageCommand? Recognize(IReadOnlyList<string> words)
    {
        var program = Path.GetFileName(words[0]);
        var args = words.Skip(1).ToList();
        if (program is "python" or "python3" && args.Count >= 2 && args[0] == "-m")
        {
            program = args[1];
            args = args.Skip(2).ToList();
        }

        var sub = args.FirstOrDefault(a => !a.StartsWith('-'));
        var text = string.Join(' ', words);
        PackageCommand Resolve(PackageManager manager) => new(manager, text, true, manager.Caches, false);
        return program switch
        {
            "apt-get" or "apt" when sub is "update" => new PackageCommand(Apt, text, false, false, true),
            "apt-get" or "apt" when sub is "install" or "upgrade" or "dist-upgrade" or "build-dep" => new PackageCommand(Apt, text, false, true, false),
            "apk" when sub is "update" => new PackageCommand(Apk, text, false, false, true),
            "apk" when sub is "add" or "upgrade" => new PackageCommand(Apk, text, false, true, false),
            "pip" or "pip3" when sub is "install" or "download" => Resolve(Pip),
            "poetry" when sub is "install" => Resolve(Poetry),
            "pipenv" when sub is "install" or "sync" => Resolve(Pipenv),
            "uv" when sub is "sync" || (sub == "pip" && args.Contains("install")) => Resolve(Uv),
            "npm" when sub is "ci" or "install" or "i" or "add" => Resolve(Npm),
            "yarn" when sub is null or "install" or "add" => Resolve(Yarn),
            "pnpm" when sub is "install" or "i" or "fetch" or "add" => Resolve(Pnpm),
            "go" when sub is "build" or "install" or "test" or "run" or "get" or "vet" or "list" || (sub == "mod" && args.Contains("download")) => Resolve(Go),
            "cargo" when sub is "build" or "fetch" or "install" or "test" or "run" or "check" => Resolve(Cargo),
            "mvn" or "mvnw" when sub is not null => Resolve(Maven),
            "gradle" or "gradlew" when sub is not null => Resolve(Gradle),
            "dotnet" when sub is "restore" => Resolve(NuGet),
            "dotnet" when sub is "build" or "publish" or "test" or "pack" or "run" => new PackageCommand(NuGet, text, !args.Contains("--no-restore"), true, false),
            "nuget" when sub is "restore" => Resolve(NuGet),
            "bundle" when sub is null or "install" => Resolve(Bundler),
            "composer" when sub is "install" or "update" => Resolve(Composer),
            _ => null,
        };
    }
}
