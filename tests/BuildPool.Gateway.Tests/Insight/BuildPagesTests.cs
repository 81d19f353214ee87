using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Builds;
using BuildPool.Gateway.Insight;
using BuildPool.Gateway.Tests.Server;
using BuildPool.TestDoubles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Insight;

/// <summary>The recent builds on the metrics port: JSON for tools, a page for people, rendered in a real browser.</summary>
public sealed class BuildPagesTests
{
    // Two builds of one project through the gateway (the second misses at the edited COPY), one of another.
    private static async Task<(GatewayHarness Harness, WebApplication Pages, Uri Address, string Project)> StartAsync()
    {
        var harness = await GatewayHarness.StartAsync(builders: 2);
        var project = harness.ProjectOn("builder-1");
        foreach (var (name, context) in new[] { (project, "c1"), (project, "c2"), ("other", "c1") })
        {
            var result = await harness.Client.BuildAsync(new FakeBuildxOptions { ContextName = name, Bootstrap = false, Dockerfile = FakeDockerfile.FourSteps(), ContextContentId = context });
            Assert.True(result.Succeeded, result.ToString());
            await Eventually.TrueAsync(() => harness.Gateway.Builds.RecentBuilds.Any(b => b.Ref == result.Ref), "the build is reported");
        }

        // The metrics port's routes, as buildpool gateway maps them.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var pages = builder.Build();
        pages.MapBuildPages(() => harness.Gateway.Builds);
        await pages.StartAsync();
        var address = new Uri(pages.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return (harness, pages, address, project);
    }

    [Fact]
    public async Task Builds_are_listed_newest_first_filtered_by_key_and_shown_one_by_one_with_their_steps()
    {
        var (harness, pages, address, project) = await StartAsync();
        await using var _ = harness;
        await using var __ = pages;
        using var http = new HttpClient { BaseAddress = address };

        var all = JsonNode.Parse(await http.GetStringAsync("/builds"))!["builds"]!.AsArray();
        var ofProject = JsonNode.Parse(await http.GetStringAsync($"/builds?key={project}&limit=1"))!["builds"]!.AsArray();
        var id = ofProject[0]!["id"]!.GetValue<string>();
        var one = JsonNode.Parse(await http.GetStringAsync($"/builds/{id}"))!;
        var missing = await http.GetAsync("/builds/no-such-build");

        Assert.Equal(["other", project, project], all.Select(b => b!["key"]!.GetValue<string>()));
        var newest = Assert.Single(ofProject)!;
        Assert.Equal("builder-1", newest["builder"]!.GetValue<string>());
        Assert.Equal("context-changed", newest["firstMiss"]!["cause"]!.GetValue<string>());
        Assert.Equal("[3/4] COPY data.txt /d", newest["firstMiss"]!["step"]!.GetValue<string>());
        Assert.Equal(2, newest["cachedSteps"]!.GetValue<int>());
        var steps = one["steps"]!.AsArray();
        Assert.Equal(8, steps.Count);
        Assert.Equal(["executed", "executed", "executed", "executed", "cached", "cached", "executed", "executed"], steps.Select(s => s!["state"]!.GetValue<string>()));
        Assert.Equal(["[3/4] COPY data.txt /d"], steps.Where(s => s!["firstMiss"]!.GetValue<bool>()).Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public void Every_text_on_the_page_is_escaped()
    {
        const string Hostile = "<img src=x onerror=alert(1)>";
        var build = new BuildSummary("ref\"><script>", "team/<b>app</b>", "ImageName", "builder-<i>0</i>", TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0, 1, 0)
        {
            FirstMiss = new FirstMiss("[1/1] RUN " + Hostile, MissCause.Unknown, Hostile),
            Steps = [new StatusVertex("d", "[1/1] RUN " + Hostile, [], false, null, null, false)],
        };

        var html = BuildPages.Html([build]);

        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<i>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html, StringComparison.Ordinal);
        Assert.Contains("team/&lt;b&gt;app&lt;/b&gt;", html, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task The_page_renders_the_recent_builds_in_headless_chromium()
    {
        var (harness, pages, address, project) = await StartAsync();
        await using var _ = harness;
        await using var __ = pages;

        var dom = await DumpDomAsync(address);

        var rows = dom.Split("<tr class=\"build\"", StringSplitOptions.None).Skip(1).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Contains("<td class=\"key\">other</td>", rows[0], StringComparison.Ordinal);
        Assert.Contains($"<td class=\"key\">{project}</td>", rows[1], StringComparison.Ordinal);
        Assert.Contains("<td class=\"builder\">builder-1</td>", rows[1], StringComparison.Ordinal);
        Assert.Contains("<td class=\"cached\">2/8</td>", rows[1], StringComparison.Ordinal);
        Assert.Contains("[3/4] COPY data.txt /d <span class=\"cause\">context-changed</span>", rows[1], StringComparison.Ordinal);
        Assert.Contains("<td class=\"cached\">0/8</td>", rows[2], StringComparison.Ordinal);
        Assert.Contains("<span class=\"cause\">cold-builder</span>", rows[2], StringComparison.Ordinal);
    }

    // The DOM after Chromium parsed and laid out the page (what a person's browser shows).
    private static async Task<string> DumpDomAsync(Uri address)
    {
        var profile = Directory.CreateTempSubdirectory("buildpool-chromium-");
        try
        {
            var start = new ProcessStartInfo(ChromiumFactAttribute.ChromiumPath!)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", $"--user-data-dir={profile.FullName}", "--dump-dom", address.ToString() })
            {
                start.ArgumentList.Add(argument);
            }

            using var chromium = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var stdout = chromium.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = chromium.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await chromium.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                chromium.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish in 60 s: {await stderr}");
            }

            var dom = await stdout;
            Assert.True(chromium.ExitCode == 0 && dom.Length > 0, $"chromium exited {chromium.ExitCode}: {await stderr}");
            return dom;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}
