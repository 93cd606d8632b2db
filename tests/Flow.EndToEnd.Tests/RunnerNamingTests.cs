using Flow.Sdk;

namespace Flow.EndToEnd.Tests;

/// <summary>FlowRunner names options as the generator does (one rule), so every parameter can be given by property name.</summary>
[Collection(PackedProductCollection.Name)]
public sealed class RunnerNamingTests(PackedProduct product)
{
    [Fact]
    public async Task Runner_GivesParametersByPropertyName_WithTheGeneratorsOptionNames()
    {
        var dir = product.SharedProject("InterruptLab", "Interrupt/InterruptFlows.cs", "SleepyFlow", replaceTemplateFlow: true);
        using var environment = new ProductEnvironment(product);
        var output = new StringWriter();
        var runner = new FlowRunner(dir) { Flow = "NamedParametersFlow", Output = output };

        var byProperty = await runner.RunAsync(new Dictionary<string, object?> { ["HTTPPort"] = 8080, ["Animal"] = "dog" });
        var byOption = await runner.RunAsync(new Dictionary<string, object?> { ["http-port"] = 8081, ["creature"] = "owl" });

        byProperty.Successful.ShouldBeTrue(output.ToString());
        byProperty["Start"].Task.Data<string>("Seen").ShouldBe("8080 dog");
        byOption["Start"].Task.Data<string>("Seen").ShouldBe("8081 owl");
        var unknown = await Should.ThrowAsync<FlowException>(() => runner.RunAsync(new Dictionary<string, object?> { ["Port"] = 1 }));
        unknown.Message.ShouldContain("HTTPPort (--http-port)");
    }
}
