using System.Text.RegularExpressions;
using BuildPool.Api.Units;

namespace BuildPool.Api.Tests.Units;

public sealed class RoutingKeyNameTests
{
    public static TheoryData<string, int, string?> Keys => new()
    {
        { "app", 0, null },
        { "reg.example.test:5000/team/app", 0, null },
        { "my_app-2", 0, null },
        { new string('a', 253), 0, null },
        { new string('a', 254), 0, "it is 254 characters long" },
        { new string('a', 250), 5, "it is 255 characters long with its tenant prefix" },
        { "", 0, "it is empty" },
        { "my app", 0, "it contains ' '" },
        { "team-a@app", 0, "it contains '@'" },
        { "App", 0, "it starts with 'A'" },
        { "app/", 0, "it ends with '/'" },
        { "a\u0000b", 0, "it contains U+0000" },
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public void A_key_is_checked_against_the_rule_and_the_refusal_says_what_broke_it(string key, int prefix, string? refusal)
    {
        Assert.Equal(refusal, RoutingKeyName.Check(key, prefix));
        // The schema pattern of a shared key says the same as the gateway's check.
        Assert.Equal(refusal is null || refusal.Contains("characters long", StringComparison.Ordinal), Regex.IsMatch(key, RoutingKeyName.Pattern));
    }

    [Fact]
    public void A_tenants_key_belongs_to_that_tenant_only()
    {
        var key = RoutingKeyName.Scoped("team-a", "app");

        Assert.Equal("team-a@app", key);
        Assert.True(RoutingKeyName.BelongsTo(key, "team-a"));
        Assert.False(RoutingKeyName.BelongsTo(key, "team"));
        Assert.False(RoutingKeyName.BelongsTo("team-a-app", "team-a"));
        Assert.False(RoutingKeyName.BelongsTo("team-a@", "team-a"));
    }
}
