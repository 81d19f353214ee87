using BuildPool.TestDoubles;

namespace BuildPool.Gateway.Tests.TestDoubles;

/// <summary>
/// The plain-progress parser the real-buildx tests and the e2e bench rely on, against output
/// captured from buildx v0.10.5 and buildkitd v0.11.6 (the build-context lines are from a 256 MiB
/// upload): if it misread CACHED or a RUN step's output, those tests would pass or fail for the
/// wrong reason.
/// </summary>
public sealed class BuildxRunTests
{
    private const string CacheMountBuild = """
        WARNING: No output specified with remote driver. Build result will only remain in the build cache. To push result image into registry use --push or to load image into docker use --load
        #1 [internal] load .dockerignore
        #1 transferring context: 2B done
        #1 DONE 0.0s

        #2 [internal] load build definition from Dockerfile
        #2 transferring dockerfile: 292B 0.0s done
        #2 DONE 0.0s

        #3 [internal] load build context
        #3 transferring context: 268.44MB 2.3s done
        #3 DONE 2.4s

        #4 [base 1/2] COPY busybox /bin/busybox
        #4 CACHED

        #5 [base 2/2] RUN ["/bin/busybox","--install","-s","/bin"]
        #5 CACHED

        #6 [stage-1 1/2] COPY src.txt /src.txt
        #6 DONE 0.4s

        #7 [stage-1 2/2] RUN --mount=type=cache,target=/cache,id=try1 sh -c 'cat /src.txt >> /cache/lines && echo "cache lines: $(wc -l < /cache/lines)"'
        #0 0.102 cache lines: 2
        #7 DONE 0.1s
        """;

    private const string FailedBuild = """
        #4 [1/2] COPY busybox /bin/busybox
        #4 CACHED

        #5 [2/2] RUN ["/bin/busybox","sh","-c","echo one; exit 3"]
        #5 0.062 one
        #5 ERROR: process "/bin/busybox sh -c echo one; exit 3" did not complete successfully: exit code: 3
        ------
         > [2/2] RUN ["/bin/busybox","sh","-c","echo one; exit 3"]:
        #5 0.062 one
        ------
        ERROR: failed to solve: process "/bin/busybox sh -c echo one; exit 3" did not complete successfully: exit code: 3
        """;

    [Fact]
    public void Dockerfile_steps_are_told_from_internal_loads_with_their_cached_flags()
    {
        var run = new BuildxRun(0, CacheMountBuild, TimeSpan.FromSeconds(1), TimedOut: false);

        Assert.Equal(7, run.Steps.Count);
        Assert.Equal(
            [("[base 1/2] COPY busybox /bin/busybox", true), ("[base 2/2] RUN [\"/bin/busybox\",\"--install\",\"-s\",\"/bin\"]", true), ("[stage-1 1/2] COPY src.txt /src.txt", false)],
            run.DockerfileSteps.Take(3).Select(s => (s.Name, s.Cached)));
        Assert.Equal(4, run.DockerfileSteps.Count);
        Assert.Equal(TimeSpan.FromSeconds(2.4), run.Steps.Single(s => s.Name == "[internal] load build context").Duration);
    }

    [Fact]
    public void A_run_step_log_printed_under_hash_zero_belongs_to_the_step_named_before_it()
    {
        var run = new BuildxRun(0, CacheMountBuild, TimeSpan.FromSeconds(1), TimedOut: false);

        Assert.Equal(["cache lines: 2"], run.DockerfileSteps[^1].Log);
        Assert.All(run.Steps.SkipLast(1), step => Assert.Empty(step.Log));
    }

    [Fact]
    public void A_failed_step_keeps_its_error_and_its_log_once_despite_the_error_summary()
    {
        var run = new BuildxRun(1, FailedBuild, TimeSpan.FromSeconds(1), TimedOut: false);

        Assert.False(run.Succeeded);
        var failed = run.DockerfileSteps[^1];
        Assert.StartsWith("ERROR: process \"/bin/busybox sh -c echo one; exit 3\"", failed.Error, StringComparison.Ordinal);
        Assert.Equal(["one"], failed.Log);
        Assert.Null(failed.Duration);
    }
}
