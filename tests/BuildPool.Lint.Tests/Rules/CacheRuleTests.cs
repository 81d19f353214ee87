using System.Globalization;
using BuildPool.Lint.Parsing;

namespace BuildPool.Lint.Tests.Rules;

/// <summary>Each rule's edges, past what the corpus shows: what it must flag and what it must leave alone.</summary>
public sealed class CacheRuleTests
{
    [Theory]
    [InlineData("go build after the whole context with no download before it", "FROM golang:1.23\nCOPY . .\nRUN --mount=type=cache,target=/go/pkg/mod go build ./...\n", "2 sources-before-dependencies")]
    [InlineData("a build script after the whole context is not an install", "FROM node:20\nCOPY package.json package-lock.json ./\nRUN --mount=type=cache,target=/root/.npm npm ci\nCOPY . .\nRUN npm run build\n", "")]
    [InlineData("dotnet publish after a restore done before the copy", "FROM dotnet/sdk:8.0\nCOPY App.csproj .\nRUN --mount=type=cache,target=/root/.nuget/packages dotnet restore\nCOPY . .\nRUN --mount=type=cache,target=/root/.nuget/packages dotnet publish --no-restore\n", "")]
    [InlineData("a copy from another stage is not the build context", "FROM node:20 AS src\nFROM node:20\nCOPY --from=src . .\nRUN --mount=type=cache,target=/root/.npm npm ci\n", "")]
    [InlineData("an install in another ecosystem after the manifests of one", "FROM python:3.12\nCOPY requirements.txt .\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\nCOPY . .\nRUN --mount=type=cache,target=/root/.npm npm ci\n", "4 sources-before-dependencies")]
    [InlineData("the exec form runs npm directly", "FROM node:20\nCOPY . .\nRUN [\"npm\", \"ci\"]\n", "2 sources-before-dependencies|3 package-cache-mount")]
    [InlineData("a cache mount for apt does not cover npm", "FROM node:20\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked apt-get update && apt-get install -y git && npm ci\n", "2 package-cache-mount")]
    [InlineData("a mount of the parent of pip's cache covers pip", "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache pip install flask==3.0.3\n", "")]
    [InlineData("a mount where no known manager caches counts as the project's own cache", "FROM golang:1.23\nRUN --mount=type=cache,target=/cache GOMODCACHE=/cache go mod download\n", "")]
    [InlineData("apt mounts with sharing=locked", "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked apt-get update && apt-get install -y git\n", "")]
    [InlineData("apt mounts with the default sharing", "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y git\n", "2 apt-cache-sharing")]
    [InlineData("apt-get update alone through sh -c in the exec form", "FROM debian:12\nRUN [\"sh\", \"-c\", \"apt-get update\"]\n", "2 apt-update-alone")]
    [InlineData("apk update alone", "FROM alpine:3.20\nRUN apk update\n", "2 apt-update-alone")]
    [InlineData("an ARG used by the first RUN after it", "FROM alpine:3.20\nARG VERSION\nRUN echo $VERSION > /version\nRUN --mount=type=cache,target=/var/cache/apk apk add git\n", "")]
    [InlineData("a global ARG is only in scope for FROM", "ARG GIT_SHA\nFROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk apk add git\n", "")]
    [InlineData("a toolchain version is not a per-build value", "FROM alpine:3.20\nARG NODE_VERSION=20\nRUN --mount=type=cache,target=/var/cache/apk apk add git\n", "")]
    [InlineData("a commit ARG before a RUN, used later by a flag", "FROM alpine:3.20\nARG CI_COMMIT_SHA\nRUN --mount=type=cache,target=/var/cache/apk apk add git\nCOPY --chown=${CI_COMMIT_SHA} a b\n", "2 early-volatile-arg")]
    [InlineData("names that point at secrets or hold public keys", "FROM alpine:3.20\nENV DB_PASSWORD_FILE=/run/secrets/db GPG_KEY=ABC AWS_ACCESS_KEY_ID=x\nARG SSH_KEY_PATH\n", "")]
    [InlineData("an API key and a password", "FROM alpine:3.20\nARG STRIPE_API_KEY\nENV ADMIN_PASSWORD=secret\n", "2 secret-in-arg-env|3 secret-in-arg-env")]
    [InlineData("a credential file copied from another stage", "FROM alpine:3.20 AS a\nFROM alpine:3.20\nCOPY --from=a /root/.npmrc /root/.npmrc\n", "")]
    [InlineData("a registry with a port and no tag", "FROM localhost:5000/tools\nFROM localhost:5000/tools:1.2\n", "1 unpinned-base-image")]
    [InlineData("asking a build tool for its version downloads nothing", "FROM maven:3.9-eclipse-temurin-21\nCOPY . .\nRUN mvn --version && gradle -v\n", "")]
    [InlineData("ADD of a local archive", "FROM alpine:3.20\nADD app.tar.gz /opt/\n", "")]
    public void Each_rule_flags_what_costs_cache_and_leaves_the_rest_alone(string shape, string dockerfile, string expected)
    {
        var actual = DockerfileLinter.Lint(DockerfileParser.Parse(dockerfile), contextHasDockerignore: true)
            .Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Line} {f.Rule}"));
        Assert.True(string.Join('|', actual) == expected, $"{shape}: expected [{expected}] but found [{string.Join('|', actual)}]");
    }

    [Fact]
    public void Copying_the_whole_context_is_flagged_only_when_the_context_is_known_to_lack_a_dockerignore()
    {
        var file = DockerfileParser.Parse("FROM alpine:3.20\nCOPY . /app\n");
        Assert.Equal(["copy-all-without-dockerignore"], DockerfileLinter.Lint(file, false).Select(f => f.Rule));
        Assert.Empty(DockerfileLinter.Lint(file, true));
        Assert.Empty(DockerfileLinter.Lint(file, null));
    }

    [Fact]
    public async Task A_Dockerfile_specific_dockerignore_next_to_the_Dockerfile_counts()
    {
        var dir = Directory.CreateTempSubdirectory("buildpool-lint-");
        try
        {
            var path = Path.Combine(dir.FullName, "app.Dockerfile");
            await File.WriteAllTextAsync(path, "FROM alpine:3.20\nCOPY . .\n");
            Assert.Single(await DockerfileLinter.LintFileAsync(path, null, CancellationToken.None));
            await File.WriteAllTextAsync(path + ".dockerignore", ".git\n");
            Assert.Empty(await DockerfileLinter.LintFileAsync(path, null, CancellationToken.None));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Every_finding_says_what_it_costs_and_how_to_fix_it()
    {
        var corpus = Path.Combine(RepositoryRoot.Path, "tests", "BuildPool.Lint.Tests", "Corpus");
        var findings = Directory.GetDirectories(corpus)
            .SelectMany(d => DockerfileLinter.Lint(DockerfileParser.Parse(File.ReadAllText(Path.Combine(d, "Dockerfile"))), false))
            .ToList();
        Assert.Equal(10, findings.Select(f => f.Rule).Distinct().Count());
        Assert.All(findings, f => Assert.True(f.Message.Length > 0 && f.Cost.Length > 20 && f.Fix.Length > 20, f.Rule));
    }
}
