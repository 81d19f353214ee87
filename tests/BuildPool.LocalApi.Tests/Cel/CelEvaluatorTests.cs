using System.Text.Json.Nodes;
using BuildPool.LocalApi.Validation.Cel;

namespace BuildPool.LocalApi.Tests.Cel;

public sealed class CelEvaluatorTests
{
    private static object? Run(string rule, string self, string? oldSelf = null)
    {
        var variables = new Dictionary<string, object?> { ["self"] = CelEvaluator.FromJson(JsonNode.Parse(self)) };
        if (oldSelf is not null)
        {
            variables["oldSelf"] = CelEvaluator.FromJson(JsonNode.Parse(oldSelf));
        }

        return CelEvaluator.Evaluate(CelParser.Parse(rule), variables);
    }

    public static TheoryData<string, string, bool> Cases() => new()
    {
        // has() is presence, never the value.
        { "has(self.a)", """{"a": false}""", true },
        { "has(self.a)", """{"b": 1}""", false },
        { "!(has(self.a) && has(self.b))", """{"a": 1, "b": 2}""", false },
        { "!(has(self.a) && has(self.b))", """{"a": 1}""", true },
        { "has(self.kind) == (self.kind == 'ClientAccess')", """{"kind": "ClientAccess"}""", true },
        { "has(self.clientAccess) == (self.kind == 'ClientAccess')", """{"kind": "EndpointTLS", "clientAccess": {}}""", false },
        // == and != on strings, numbers, bools and objects; ints and doubles compare by value.
        { "self.mode != 'FromSecret' || has(self.secretName)", """{"mode": "FromSecret"}""", false },
        { "self.mode != 'FromSecret' || has(self.secretName)", """{"mode": "Managed"}""", true },
        { "self.n == 2.0", """{"n": 2}""", true },
        { "self.a == self.b", """{"a": {"x": [1, 2]}, "b": {"x": [1, 2]}}""", true },
        { "self.a != self.b", """{"a": [1, 2], "b": [2, 1]}""", true },
        // Comparisons and arithmetic.
        { "self.warm <= self.volumes", """{"warm": 3, "volumes": 2}""", false },
        { "self.warm <= self.volumes", """{"warm": 2, "volumes": 2}""", true },
        { "self.a + self.b * 2 - 1 == 9 && self.a % 2 == 0 && self.b / 3 == 1", """{"a": 4, "b": 3}""", true },
        { "'a' < 'b' && self.s + '!' == 'hi!'", """{"s": "hi"}""", true },
        { "-self.n < 0", """{"n": 5}""", true },
        // size() as a function and a method, on strings (code points), lists and maps.
        { "size(self.s) == 2 && self.s.size() == 2", """{"s": "é!"}""", true },
        { "size(self.l) == 3 && size(self.m) == 1", """{"l": [1, 2, 3], "m": {"k": "v"}}""", true },
        // in, on lists (literal and from the object) and map keys.
        { "self.c in ['gzip', 'zstd']", """{"c": "zstd"}""", true },
        { "self.c in ['gzip', 'zstd']", """{"c": "estargz"}""", false },
        { "'k' in self.m && !('x' in self.m) && 2 in self.l", """{"m": {"k": 1}, "l": [1, 2]}""", true },
        // Macros.
        { "self.all(x, self.exists_one(y, y == x))", """["a", "b", "c"]""", true },
        { "self.all(x, self.exists_one(y, y == x))", """["a", "b", "a"]""", false },
        { "self.exists(x, x > 2)", """[1, 2, 3]""", true },
        { "self.all(k, k.startsWith('buildpool.dev/'))", """{"buildpool.dev/a": 1, "other/b": 2}""", false },
        // Ternary and string functions.
        { "self.mode == 'Dedicated' ? self.warm <= self.max : self.warm <= self.volumes", """{"mode": "Dedicated", "warm": 5, "max": 8, "volumes": 1}""", true },
        { "self.ref.contains('{key}') && self.ref.endsWith('}') && self.ref.matches('^[a-z/:{}]+$')", """{"ref": "cache/app:{key}"}""", true },
        // Transition rules: oldSelf is the stored value.
        { "self == oldSelf", "\"ci\"", true },
        // && and || absorb an error when the other side decides.
        { "self.missing == 1 || true", "{}", true },
        { "false && self.missing == 1", "{}", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rules_evaluate_as_kube_apiserver_evaluates_them(string rule, string self, bool expected) =>
        Assert.Equal(expected, Run(rule, self, rule.Contains("oldSelf", StringComparison.Ordinal) ? self : null));

    [Fact]
    public void Values_of_a_stored_object_are_cel_values_not_json_nodes()
    {
        // Objects built in code hold JsonValue<long>, not parsed JSON: both must compare as ints.
        var self = new JsonObject { ["warm"] = JsonValue.Create(3L), ["volumes"] = JsonValue.Create(2), ["mode"] = JsonValue.Create("Hashed") };
        var rule = CelParser.Parse("self.mode == 'Hashed' && self.warm > self.volumes");

        Assert.Equal(true, CelEvaluator.Evaluate(rule, new Dictionary<string, object?> { ["self"] = CelEvaluator.FromJson(self) }));
    }

    [Fact]
    public void A_changed_value_fails_an_immutability_rule() =>
        Assert.Equal(false, Run("self == oldSelf", "\"other\"", "\"ci\""));

    public static TheoryData<string, string, string> Errors() => new()
    {
        { "self.missing == 1", "{}", "no such key: missing" },
        { "self.missing == 1 && true", "{}", "no such key: missing" },
        { "self.s + 1 == 2", """{"s": "a"}""", "no such overload: _+_(string, int)" },
        { "self.n * self.n > 0", """{"n": 9223372036854775807}""", "overflow" },
        { "self.n / 0 == 1", """{"n": 1}""", "division by zero" },
        { "!self.s", """{"s": "a"}""", "no such overload: !_(string)" },
        { "self.l[5] == 1", """{"l": [1]}""", "index out of bounds: 5" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Evaluation_errors_use_cels_words(string rule, string self, string error)
    {
        var ex = Assert.Throws<CelException>(() => Run(rule, self));
        Assert.Contains(error, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("self.a ==")]
    [InlineData("has(self)")]
    [InlineData("self.a = 1")]
    [InlineData("self.map(x, x)")]
    [InlineData("'unterminated")]
    public void What_the_subset_cannot_read_is_refused_naming_the_position(string rule)
    {
        var ex = Assert.ThrowsAny<Exception>(() => Run(rule, """{"a": 1}"""));
        Assert.IsType<CelException>(ex);
        Assert.Contains("ERROR: <input>:1:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_rules_that_read_oldSelf_are_transition_rules()
    {
        Assert.True(CelParser.Parse("self == oldSelf").ReadsOldSelf());
        Assert.True(CelParser.Parse("!has(oldSelf.a) || self.a == oldSelf.a").ReadsOldSelf());
        Assert.False(CelParser.Parse("self.all(x, self.exists_one(y, y == x))").ReadsOldSelf());
    }
}
