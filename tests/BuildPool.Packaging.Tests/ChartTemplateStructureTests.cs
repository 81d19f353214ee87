namespace BuildPool.Packaging.Tests;

public sealed class ChartTemplateStructureTests
{
    [Fact]
    public void Every_template_closes_its_delimiters_and_blocks_and_reads_values_from_the_right_scope()
    {
        var templates = ChartPaths.AllTemplateFiles().Select(ChartTemplate.Load).ToList();

        Assert.Contains(templates, t => t.Name == "_helpers.tpl");
        Assert.Contains(templates, t => t.Name == "NOTES.txt");
        var errors = templates.SelectMany(t => t.Errors).ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    [Fact]
    public void Every_included_template_is_defined_in_the_chart()
    {
        var templates = ChartPaths.AllTemplateFiles().Select(ChartTemplate.Load).ToList();
        var defined = templates.SelectMany(t => t.Defines).ToHashSet(StringComparer.Ordinal);

        var undefined = templates.SelectMany(t => t.Includes.Where(i => !defined.Contains(i.Name)).Select(i => $"{t.Name}:{i.Line}: {i.Name}")).ToList();

        Assert.True(undefined.Count == 0, "include/template of names no file defines:\n" + string.Join('\n', undefined));
        Assert.Subset(defined, new HashSet<string> { "buildpool.name", "buildpool.fullname", "buildpool.labels", "buildpool.selectorLabels", "buildpool.serviceAccountName" });
    }

    public static TheoryData<string, string, string> BrokenTemplates => new()
    {
        { "an action left open", "name: {{ .Values.a\nkind: x\n", "never closed" },
        { "an action opened inside another", "name: {{ .Values.a {{ .Values.b }}\n", "opened again" },
        { "a stray closing delimiter", "name: .Values.a }}\n", "without an opening" },
        { "an if without end", "{{- if .Values.a }}\nx: 1\n", "'if' is never closed" },
        { "a define without end", "{{- define \"x\" -}}\nx\n", "'define' is never closed" },
        { "an end too many", "{{- with .Values.a }}\nx: 1\n{{- end }}\n{{- end }}\n", "'end' without" },
        { "an else outside a block", "{{ else }}\n", "'else' outside" },
        { ".Values inside with", "{{- with .Values.a }}\nx: {{ .Values.b }}\n{{- end }}\n", "write '$.Values.b'" },
        { ".Release inside range", "{{- range .Values.a }}\nx: {{ .Release.Name }}\n{{- end }}\n", "write '$.Release.Name'" },
    };

    [Theory]
    [MemberData(nameof(BrokenTemplates))]
    public void The_scanner_reports(string mistake, string text, string message)
    {
        var errors = ChartTemplate.Parse("t.yaml", text).Errors;

        Assert.True(errors.Any(e => e.Contains(message, StringComparison.Ordinal)), $"{mistake}: expected an error containing \"{message}\", got:\n{string.Join('\n', errors)}");
    }

    public static TheoryData<string, string, string[]> ValueReads => new()
    {
        { "a plain read", "x: {{ .Values.image.tag | quote }}", ["image.tag"] },
        { "a read through $ inside range", "{{- range .Values.a }}{{ $.Values.b.c }}{{ .name }}{{- end }}", ["a", "b.c"] },
        { "fields of with's dot", "{{- with .Values.metrics }}{{ .service.port }}{{ else }}{{ .Values.z }}{{- end }}", ["metrics", "metrics.service.port", "z"] },
        { "a nested with", "{{- with .Values.a }}{{- with .b }}{{ .c }}{{- end }}{{- end }}", ["a", "a.b", "a.b.c"] },
        { "not strings, numbers or variables", "{{ printf \".Values.no %s\" $v.Values.x }}{{ 1.5 }}{{ (.Values.ok).no }}", ["ok"] },
        { "reads in conditions and defines", "{{- define \"n\" }}{{ .Values.d }}{{- end }}{{- if and .Values.e (not .Values.f) }}{{- end }}", ["d", "e", "f"] },
        { "not comments", "{{/* .Values.no */}}{{- /* .Values.no */ -}}", [] },
    };

    [Theory]
    [MemberData(nameof(ValueReads))]
    public void The_scanner_finds_values_reads_in(string construct, string text, string[] paths)
    {
        var template = ChartTemplate.Parse("t.yaml", text);

        Assert.True(template.Errors.Count == 0, $"{construct}: {string.Join('\n', template.Errors)}");
        Assert.Equal(paths.Order(StringComparer.Ordinal), template.ValueReferences.Select(r => r.Path).Distinct().Order(StringComparer.Ordinal));
    }
}
