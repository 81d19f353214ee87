using BuildPool.Operator.Rendering;

namespace BuildPool.Operator.Tests.Rendering;

public class BuildkitVersionTests
{
    [Theory]
    [InlineData("v0.17.3", 0, 17, 3)]
    [InlineData("v0.17.3-rootless", 0, 17, 3)]
    [InlineData("0.11.6", 0, 11, 6)]
    [InlineData("v0.18.0-rc1-rootless", 0, 18, 0)]
    [InlineData("v0.17", 0, 17, 0)]
    [InlineData("v1.2.3+build", 1, 2, 3)]
    public void Version_tags_parse(string tag, int major, int minor, int patch)
    {
        Assert.True(BuildkitVersion.TryParse(tag, out var version));
        Assert.Equal(new BuildkitVersion(major, minor, patch), version);
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("master")]
    [InlineData("rootless")]
    [InlineData("buildx-stable-1")]
    [InlineData("v1")]
    [InlineData("v0..1")]
    [InlineData("")]
    [InlineData(null)]
    public void Tags_that_are_not_versions_do_not_parse(string? tag) =>
        Assert.False(BuildkitVersion.TryParse(tag, out _));

    [Theory]
    [InlineData("moby/buildkit:v0.17.3-rootless", "v0.17.3-rootless")]
    [InlineData("localhost:5000/buildkit:v0.11.6", "v0.11.6")]
    [InlineData("moby/buildkit:v0.17.3@sha256:abcd", "v0.17.3")]
    [InlineData("localhost:5000/buildkit", null)]
    [InlineData("moby/buildkit@sha256:abcd", null)]
    [InlineData("moby/buildkit", null)]
    public void The_tag_is_read_from_an_image_reference(string image, string? tag) =>
        Assert.Equal(tag, BuildkitVersion.TagOf(image));

    [Fact]
    public void Versions_order_by_number_not_by_text()
    {
        Assert.True(new BuildkitVersion(0, 9, 0).IsBefore(new BuildkitVersion(0, 17, 0)));
        Assert.True(new BuildkitVersion(0, 16, 99).IsBefore(BuildkitVersion.ReservedSpaceFields));
        Assert.False(new BuildkitVersion(1, 0, 0).IsBefore(BuildkitVersion.ReservedSpaceFields));
        Assert.Equal("v0.17.3", new BuildkitVersion(0, 17, 3).ToString());
    }
}
