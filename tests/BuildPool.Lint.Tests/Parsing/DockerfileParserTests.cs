using BuildPool.Lint.Parsing;

namespace BuildPool.Lint.Tests.Parsing;

public sealed class DockerfileParserTests
{
    [Fact]
    public void A_continued_instruction_spans_its_lines_and_the_next_keeps_its_own_line_number()
    {
        var file = DockerfileParser.Parse("FROM alpine:3.20\nRUN apk add \\\n    git \\\n    curl\nWORKDIR /src\n");
        var run = file.Instructions[1];
        Assert.Equal((2, 4), (run.Line, run.EndLine));
        Assert.Equal(["apk", "add", "git", "curl"], ShellWords.Split(run.Arguments, '\\'));
        Assert.Equal(5, file.Instructions[2].Line);
    }

    [Fact]
    public void Comments_and_empty_lines_inside_a_continued_instruction_are_dropped()
    {
        var file = DockerfileParser.Parse("FROM alpine:3.20\nRUN apk add \\\n# git is needed for go get\n\n    git\nUSER 1000\n");
        Assert.Equal(["apk", "add", "git"], ShellWords.Split(file.Instructions[1].Arguments, '\\'));
        Assert.Equal(6, file.Instructions[2].Line);
    }

    [Fact]
    public void The_escape_directive_makes_the_backtick_continue_lines_and_backslashes_plain()
    {
        var file = DockerfileParser.Parse("# escape=`\nFROM windows/nanoserver:ltsc2022\nCOPY . C:\\app\\\nRUN dir `\n    C:\\app\n");
        Assert.Equal('`', file.Directives.Escape);
        Assert.Equal("C:\\app\\", ShellWords.Split(file.Instructions[1].Arguments, '`')[1]);
        Assert.Equal((4, 5), (file.Instructions[2].Line, file.Instructions[2].EndLine));
    }

    [Fact]
    public void Directives_are_read_only_before_the_first_comment_or_instruction()
    {
        var file = DockerfileParser.Parse("# syntax=docker/dockerfile:1\n# check=skip=JSONArgsRecommended\n# a comment\n# escape=`\nFROM alpine:3.20\n");
        Assert.Equal(("docker/dockerfile:1", "skip=JSONArgsRecommended", '\\'), (file.Directives.Syntax, file.Directives.Check, file.Directives.Escape));
    }

    [Theory]
    [InlineData("# escape=\\\n# escape=`\nFROM alpine\n", 2, "only once")]
    [InlineData("# escape=/\nFROM alpine\n", 1, "invalid escape")]
    [InlineData("FROM alpine\nRUNN make\n", 2, "unknown instruction RUNN")]
    [InlineData("RUN make\nFROM alpine\n", 1, "before the first FROM")]
    [InlineData("FROM alpine\nRUN <<EOF\necho hi\n", 2, "<<EOF has no line EOF")]
    public void A_Dockerfile_BuildKit_would_refuse_is_refused_with_its_line(string text, int line, string message)
    {
        var error = Assert.Throws<DockerfileParseException>(() => DockerfileParser.Parse(text));
        Assert.Equal(line, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_FROM_is_refused()
    {
        var error = Assert.Throws<DockerfileParseException>(() => DockerfileParser.Parse("# only a comment\nARG X=1\n"));
        Assert.Contains("no FROM", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Here_documents_keep_their_bodies_and_the_instruction_ends_at_the_last_terminator()
    {
        var file = DockerfileParser.Parse("FROM alpine\nRUN <<one cat && <<-\"two\" cat\nfirst \\\n# not a comment\none\n\tsecond\n\ttwo\nUSER 1000\n");
        var run = file.Instructions[1];
        Assert.Equal((2, 7), (run.Line, run.EndLine));
        Assert.Collection(
            run.Heredocs,
            h => Assert.Equal(("one", "first \\\n# not a comment\n", false, false, 3), (h.Name, h.Body, h.StripTabs, h.Quoted, h.Line)),
            h => Assert.Equal(("two", "second\n", true, true, 6), (h.Name, h.Body, h.StripTabs, h.Quoted, h.Line)));
        Assert.Equal(8, file.Instructions[2].Line);
    }

    [Fact]
    public void A_COPY_here_document_is_a_source_and_a_quoted_marker_is_not_a_here_document()
    {
        var file = DockerfileParser.Parse("FROM alpine\nCOPY <<EOF /etc/motd\nhello\nEOF\nRUN echo \"<<EOF\" > /x\n");
        Assert.Equal("hello\n", Assert.Single(file.Instructions[1].Heredocs).Body);
        Assert.Empty(file.Instructions[2].Heredocs);
        Assert.Equal(5, file.Instructions[2].Line);
    }

    [Fact]
    public void Flags_come_before_the_arguments_and_mounts_are_read_from_them()
    {
        var file = DockerfileParser.Parse("FROM alpine\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=secret,id=npmrc,target=/root/.npmrc --network=none make\nCOPY --from=build --chown=1000:1000 --link /out/ /app/\n");
        var run = file.Instructions[1];
        Assert.Equal("make", run.Arguments);
        Assert.Equal(
            [new Mount("cache", "/var/cache/apt", null, "locked", null), new Mount("secret", "/root/.npmrc", "npmrc", null, null)],
            run.Mounts);
        Assert.Equal("none", run.Flag("network"));
        var copy = file.Instructions[2];
        Assert.Equal(("build", "1000:1000", ""), (copy.Flag("from"), copy.Flag("chown"), copy.Flag("link")));
        Assert.Null(copy.Flag("chmod"));
        Assert.Equal("/out/ /app/", copy.Arguments);
    }

    [Fact]
    public void A_mount_without_a_type_is_a_bind_mount()
    {
        Assert.Equal(new Mount("bind", "/src", null, null, "."), Mount.Parse("target=/src,source=."));
    }

    [Fact]
    public void JSON_arrays_are_the_exec_form_and_anything_else_the_shell_form()
    {
        var file = DockerfileParser.Parse("FROM alpine\nCMD [\"node\", \"dist/index.js\"]\nRUN [\"npm\", ci]\nENTRYPOINT exec node\n");
        Assert.Equal(["node", "dist/index.js"], file.Instructions[1].ExecForm);
        Assert.Null(file.Instructions[2].ExecForm);
        Assert.Null(file.Instructions[3].ExecForm);
    }

    [Fact]
    public void Stages_have_their_names_base_images_and_instructions()
    {
        var file = DockerfileParser.Parse("ARG GO=1.23\nFROM --platform=$BUILDPLATFORM golang:${GO} AS build\nRUN go build\nFROM build as test\nRUN go test\nFROM scratch\nCOPY --from=0 /out /\n");
        Assert.Single(file.GlobalArgs);
        Assert.Equal(
            [("build", "golang:${GO}", 1), ("test", "build", 1), (null, "scratch", 1)],
            file.Stages.Select(s => (s.Name, s.BaseImage, s.Instructions.Count)));
        Assert.Equal("--platform", "--" + file.Stages[0].From.Flags[0].Name);
        Assert.Same(file.Stages[0], file.StageNamed("BUILD", 2));
        Assert.Same(file.Stages[1], file.StageNamed("1", 2));
        Assert.Null(file.StageNamed("test", 1));
    }

    [Fact]
    public void ARG_and_ENV_assignments_are_read_in_every_form()
    {
        var file = DockerfileParser.Parse("ARG A=1 B\nFROM alpine\nENV K=\"a b\" L=c\nENV LEGACY some value\n");
        Assert.Equal([new Assignment("A", "1"), new Assignment("B", null)], file.Instructions[0].Assignments);
        Assert.Equal([new Assignment("K", "a b"), new Assignment("L", "c")], file.Instructions[2].Assignments);
        Assert.Equal([new Assignment("LEGACY", "some value")], file.Instructions[3].Assignments);
    }

    [Fact]
    public void Windows_line_endings_read_like_unix_ones()
    {
        var file = DockerfileParser.Parse("FROM alpine\r\nRUN a \\\r\n  b\r\nUSER 1\r\n");
        Assert.Equal(["a", "b"], ShellWords.Split(file.Instructions[1].Arguments, '\\'));
        Assert.Equal(4, file.Instructions[2].Line);
    }
}
