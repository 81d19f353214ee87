using System.Net;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Tests.TestSupport;
using k8s;
using k8s.Models;

namespace BuildPool.LocalApi.Tests;

public sealed class ValidationTests : ServerTest
{
    private async Task<(HttpStatusCode Code, JsonObject Status)> RejectAsync(Action<JsonObject> mutate, string? fieldValidation = null)
    {
        var pool = Pool("bad");
        mutate(pool);
        return await FailureAsync(() => CreatePoolAsync(pool, fieldValidation));
    }

    private static JsonObject Spec(JsonObject pool) => pool["spec"]!.AsObject();

    [Fact]
    public async Task Enum_violation_names_the_field_and_lists_supported_values()
    {
        var (code, status) = await RejectAsync(p => Spec(p)["builder"]!["securityProfile"] = "Foo");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        Assert.Equal("Invalid", Str(status["reason"]));
        Assert.Equal(
            "BuilderPool.test.buildpool.dev \"bad\" is invalid: spec.builder.securityProfile: Unsupported value: \"Foo\": supported values: \"Rootless\", \"UserNamespace\", \"Privileged\"",
            Str(status["message"]));
        var cause = Assert.Single(status["details"]!["causes"]!.AsArray())!;
        Assert.Equal("FieldValueNotSupported", Str(cause["reason"]));
        Assert.Equal("spec.builder.securityProfile", Str(cause["field"]));
        Assert.Equal("BuilderPool", Str(status["details"]!["kind"]));
        Assert.Equal("test.buildpool.dev", Str(status["details"]!["group"]));
    }

    [Fact]
    public async Task Pattern_violation_quotes_the_value_and_the_pattern()
    {
        var (_, status) = await RejectAsync(p => Spec(p)["cache"] = new JsonObject { ["size"] = "-1Gi" });

        Assert.Equal(
            "BuilderPool.test.buildpool.dev \"bad\" is invalid: spec.cache.size: Invalid value: \"-1Gi\": spec.cache.size in body should match '^[0-9]+(Mi|Gi|Ti)$'",
            Str(status["message"]));
        Assert.Equal("FieldValueInvalid", Str(status["details"]!["causes"]![0]!["reason"]));
    }

    [Theory]
    [InlineData(-1, "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0")]
    [InlineData(51, "spec.replicas: Invalid value: 51: spec.replicas in body should be less than or equal to 50")]
    public async Task Range_violations_name_the_bound(int replicas, string expected)
    {
        var (_, status) = await RejectAsync(p => Spec(p)["replicas"] = replicas);

        Assert.Equal($"BuilderPool.test.buildpool.dev \"bad\" is invalid: {expected}", Str(status["message"]));
    }

    [Fact]
    public async Task Missing_required_field_is_required_value()
    {
        var (_, status) = await RejectAsync(p => Spec(p)["builder"]!.AsObject().Remove("image"));

        Assert.Equal("BuilderPool.test.buildpool.dev \"bad\" is invalid: spec.builder.image: Required value", Str(status["message"]));
        Assert.Equal("FieldValueRequired", Str(status["details"]!["causes"]![0]!["reason"]));
    }

    [Fact]
    public async Task Wrong_type_names_expected_and_actual_types()
    {
        var (_, status) = await RejectAsync(p => Spec(p)["replicas"] = "three");

        Assert.Equal(
            "BuilderPool.test.buildpool.dev \"bad\" is invalid: spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"",
            Str(status["message"]));
        Assert.Equal("FieldValueTypeInvalid", Str(status["details"]!["causes"]![0]!["reason"]));
    }

    [Fact]
    public async Task Several_errors_are_listed_in_brackets()
    {
        var (_, status) = await RejectAsync(p =>
        {
            Spec(p)["replicas"] = -1;
            Spec(p)["platforms"] = new JsonArray("a", "b", "c", "d", "e");
        });

        var message = Str(status["message"])!;
        Assert.StartsWith("BuilderPool.test.buildpool.dev \"bad\" is invalid: [", message, StringComparison.Ordinal);
        Assert.Contains("spec.platforms: Too many: 5: must have at most 4 items", message, StringComparison.Ordinal);
        Assert.Equal(2, status["details"]!["causes"]!.AsArray().Count);
    }

    [Fact]
    public async Task Unknown_fields_are_rejected_under_strict_field_validation()
    {
        var (code, status) = await RejectAsync(p => Spec(p)["bogus"] = 1, fieldValidation: "Strict");

        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Equal(
            "BuilderPool in version \"v1alpha1\" cannot be handled as a BuilderPool: strict decoding error: unknown field \"spec.bogus\"",
            Str(status["message"]));
    }

    [Fact]
    public async Task Unknown_fields_are_pruned_without_strict_validation_but_preserved_where_the_schema_says_so()
    {
        var pool = Pool("pruned");
        Spec(pool)["bogus"] = 1;
        Spec(pool)["builder"]!["alsoBogus"] = true;
        Spec(pool)["extra"] = new JsonObject { ["anything"] = new JsonObject { ["goes"] = 1 } };
        Spec(pool)["nodeSelector"] = new JsonObject { ["disk"] = "ssd" };

        var created = await CreatePoolAsync(pool);

        Assert.Null(created["spec"]!["bogus"]);
        Assert.Null(created["spec"]!["builder"]!["alsoBogus"]);
        Assert.Equal(1, created["spec"]!["extra"]!["anything"]!["goes"]!.GetValue<int>());
        Assert.Equal("ssd", Str(created["spec"]!["nodeSelector"]!["disk"]));
    }

    [Theory]
    [InlineData("4")]
    [InlineData("50%")]
    public async Task Int_or_string_accepts_both(string value)
    {
        var pool = Pool("ios");
        Spec(pool)["maxParallelism"] = value == "4" ? JsonValue.Create(4) : JsonValue.Create(value);

        var created = await CreatePoolAsync(pool);

        Assert.NotNull(created["spec"]!["maxParallelism"]);
    }

    [Fact]
    public async Task Additional_properties_schema_validates_map_values()
    {
        var (_, status) = await RejectAsync(p => Spec(p)["nodeSelector"] = new JsonObject { ["disk"] = 5 });

        Assert.Contains("spec.nodeSelector.disk: Invalid value: \"integer\": spec.nodeSelector.disk in body must be of type string", Str(status["message"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Updates_and_patches_are_validated_too()
    {
        await CreatePoolAsync(Pool("ok"));

        var (code, status) = await FailureAsync(() => Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("{\"spec\":{\"builder\":{\"securityProfile\":\"Nope\"}}}", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "ok"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        Assert.Contains("spec.builder.securityProfile: Unsupported value: \"Nope\"", Str(status["message"]), StringComparison.Ordinal);
        Assert.Equal("Rootless", Str((await GetPoolAsync("ok"))["spec"]!["builder"]!["securityProfile"]));
    }
}
