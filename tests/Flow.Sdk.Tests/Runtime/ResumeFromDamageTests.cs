using Flow.Sdk.Runtime;
using Flow.Sdk.Tests.Support;

namespace Flow.Sdk.Tests.Runtime;

/// <summary>A torn record in the origin run never blocks a resume: that task reads as unfinished and runs again.</summary>
public sealed class ResumeFromDamageTests : IDisposable
{
    private readonly PipelineScenario _scenario = new();

    public void Dispose() => _scenario.Dispose();

    [Theory]
    [InlineData("")]
    [InlineData("{\"status\":\"succeeded\",\"finishedAt\":\"2025-")]
    public async Task ResumePlan_OverATornDoneJson_ClonesTheRest_AndRunsThatTaskAgain(string torn)
    {
        var warnings = new List<string>();
        _scenario.Store.Warn = warnings.Add;
        var origin = _scenario.StartRun();
        (await _scenario.RunAllAsync(origin)).ShouldBe("succeeded");
        var middle = Path.Combine(_scenario.Store.AttemptDir(PipelineScenario.FlowName, origin, "Middle", "2", 0), "done.json");
        File.WriteAllText(middle, torn);

        var plan = ResumePlan.Build(_scenario.Store, _scenario.Definition.Graph, origin, fromStep: null);

        plan.Tasks.Single(t => t.Step == "Start").Clone.ShouldBeTrue();
        plan.Tasks.Single(t => t.Step == "Middle").Reason.ShouldBe("did not finish");
        plan.Tasks.Single(t => t.Step == "End").Clone.ShouldBeFalse();
        plan.FirstRerun.ShouldBe("Middle");
        warnings.ShouldHaveSingleItem().ShouldContain(middle);
    }
}
