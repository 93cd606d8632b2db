using Flow.Sdk.Tests.Support;

namespace Flow.Sdk.Tests.Client;

public sealed class FlowClientTests : IDisposable
{
    private readonly PipelineScenario _scenario = new(new StepHooks
    {
        Start = f =>
        {
            f.Greeting = $"hello {f.Count}";
            f.Numbers = [.. Enumerable.Range(1, f.Count)];
        },
        Middle = f => f.Echo = f.Greeting + "!",
    });

    public void Dispose() => _scenario.Dispose();

    private FlowInfo Flow => FlowClient.GetFlow(_scenario.Store, PipelineScenario.FlowName);

    private async Task<string> CompletedRunAsync(int count, int second, string? user = null)
    {
        var run = _scenario.StartRun(count, PipelineScenario.Time(second), user);
        (await _scenario.RunAllAsync(run)).ShouldBe("succeeded");
        return run;
    }

    private async Task<RunInfo> CompletedRunInfoAsync(int count, int second)
    {
        var id = await CompletedRunAsync(count, second);
        return Flow.GetRun(id);
    }

    [Fact]
    public async Task Runs_AreListedNewestFirst()
    {
        var first = await CompletedRunAsync(1, second: 0);
        var third = await CompletedRunAsync(3, second: 20);
        var second = await CompletedRunAsync(2, second: 10);

        Flow.Runs.Select(r => r.Id).ShouldBe([third, second, first]);
        Flow.Runs.First().Pathspec.ShouldBe($"{PipelineScenario.FlowName}/{third}");
    }

    [Fact]
    public async Task GetRun_Latest_IsTheNewestRunOfTheCurrentUser()
    {
        var older = await CompletedRunAsync(1, second: 0);
        var newest = await CompletedRunAsync(2, second: 10);
        await CompletedRunAsync(3, second: 20, user: "someone-else-" + Guid.NewGuid().ToString("N"));

        Flow.GetRun("latest").Id.ShouldBe(newest);
        Flow.LatestRun.ShouldNotBeNull().Id.ShouldBe(newest);
        Flow.GetRun(older).Id.ShouldBe(older);
    }

    [Fact]
    public async Task TaskData_ReturnsTheStoredValues()
    {
        var run = await CompletedRunInfoAsync(4, second: 0);

        run["Start"].Task.Data<string>("Greeting").ShouldBe("hello 4");
        run["Middle"].Task.Data<string>("Echo").ShouldBe("hello 4!");
        run["End"].Task.Data<List<int>>("Numbers").ShouldBe([1, 2, 3, 4]);
        run["End"].Task.Data<int>("Count").ShouldBe(4);
        run["end"].Name.ShouldBe("End");
    }

    [Fact]
    public async Task Run_DescribesItsStateAndSteps()
    {
        var run = await CompletedRunInfoAsync(2, second: 0);

        run.Successful.ShouldBeTrue();
        run.Finished.ShouldBeTrue();
        run.StartedAt.ShouldBe(PipelineScenario.Time(0));
        run.Parameters.ShouldBe(["Count"]);
        run.Steps.Select(s => s.Name).ShouldBe(["Start", "Middle", "End"]);
        var task = run["Middle"].Task;
        task.Successful.ShouldBeTrue();
        task.Pathspec.ShouldBe($"{PipelineScenario.FlowName}/{run.Id}/Middle/2");
        task.Artifacts.Select(a => a.Name).ShouldBe(["Count", "Echo", "Greeting", "Numbers"]);
        task["Numbers"].ToJson().ShouldBe("[1,2]");
    }

    [Fact]
    public async Task Task_OfAFailedStep_ReportsItsError()
    {
        _scenario.Hooks = new StepHooks { Start = _ => throw new StepFailedException("no data") };
        var id = _scenario.StartRun(1, PipelineScenario.Time(0));
        (await _scenario.RunAllAsync(id)).ShouldBe("Start");

        var task = Flow.GetRun(id)["Start"].Task;

        task.Finished.ShouldBeTrue();
        task.Successful.ShouldBeFalse();
        task.Error.ShouldBe($"{typeof(StepFailedException).FullName}: no data");
    }

    [Fact]
    public async Task Task_MissingArtifact_ThrowsNamingIt()
    {
        var task = (await CompletedRunInfoAsync(1, second: 0))["Start"].Task;

        var error = Should.Throw<FlowException>(() => task.Data<string>("Echo"));

        error.Message.ShouldContain("'Echo'");
        error.Message.ShouldContain(task.Pathspec);
    }

    [Fact]
    public async Task Run_MissingStep_ThrowsListingTheSteps()
    {
        var run = await CompletedRunInfoAsync(1, second: 0);

        var error = Should.Throw<FlowException>(() => run["Train"]);

        error.Message.ShouldContain("'Train'");
        error.Message.ShouldContain("Start");
        error.Message.ShouldContain("Middle");
    }

    [Fact]
    public async Task Step_MissingTask_Throws()
    {
        var step = (await CompletedRunInfoAsync(1, second: 0))["Start"];

        Should.Throw<FlowException>(() => step["7"]).Message.ShouldContain("'7'");
        Should.Throw<FlowException>(() => step["../1"]).Message.ShouldContain("'../1'");
    }

    [Theory]
    [InlineData("1234")]
    [InlineData("..")]
    [InlineData("../../etc")]
    public async Task Flow_MissingRun_ThrowsNamingIt(string runId)
    {
        await CompletedRunAsync(1, second: 0);

        var error = Should.Throw<FlowException>(() => Flow.GetRun(runId));

        error.Message.ShouldContain($"'{runId}'");
        error.Message.ShouldContain(PipelineScenario.FlowName);
    }

    [Fact]
    public void GetRun_LatestWithoutRuns_Throws()
    {
        _scenario.Store.CreateRun(PipelineScenario.FlowName, PipelineScenario.Time(0));

        Should.Throw<FlowException>(() => Flow.GetRun("latest")).Message.ShouldContain("no run");
    }

    [Theory]
    [InlineData("Unknown")]
    [InlineData("../runs")]
    public async Task GetFlow_Unknown_ThrowsListingTheKnownFlows(string name)
    {
        await CompletedRunAsync(1, second: 0);

        var error = Should.Throw<FlowException>(() => FlowClient.GetFlow(_scenario.Store, name));

        error.Message.ShouldContain($"'{name}'");
        error.Message.ShouldContain(PipelineScenario.FlowName);
    }

    [Fact]
    public async Task TaskData_CorruptedBlob_ThrowsFailureNamingTheArtifact()
    {
        var run = await CompletedRunInfoAsync(2, second: 0);
        var artifact = run["Middle"].Task["Greeting"];
        _scenario.CorruptBlob(artifact.Sha);

        var error = Should.Throw<FlowException>(() => run["Middle"].Task.Data<string>("Greeting"));

        error.ExitCode.ShouldBe(ExitCodes.Failure);
        error.Message.ShouldContain(artifact.Pathspec);
        error.Message.ShouldContain("damaged");
        Should.Throw<FlowException>(artifact.ToJson).ExitCode.ShouldBe(ExitCodes.Failure);
    }

    [Fact]
    public async Task TaskData_DeletedBlob_ThrowsFailureNamingTheArtifact()
    {
        var run = await CompletedRunInfoAsync(2, second: 0);
        var artifact = run["End"].Task["Numbers"];
        File.Delete(_scenario.Store.Blobs.PathOf(artifact.Sha));

        var error = Should.Throw<FlowException>(() => run["End"].Task.Data<List<int>>("Numbers"));

        error.ExitCode.ShouldBe(ExitCodes.Failure);
        error.Message.ShouldContain(artifact.Pathspec);
        error.Message.ShouldContain("missing");
    }

    [Fact]
    public async Task TaskData_SameArtifactAsTwoTypes_ReadsBoth()
    {
        var task = (await CompletedRunInfoAsync(3, second: 0))["End"].Task;

        task.Data<List<int>>("Numbers").ShouldBe([1, 2, 3]);
        task.Data<int[]>("Numbers").ShouldBe([1, 2, 3]);
    }

    [Fact]
    public async Task TaskData_WrongType_ThrowsNamingBothTypes()
    {
        var task = (await CompletedRunInfoAsync(2, second: 0))["End"].Task;

        var error = Should.Throw<FlowException>(() => task.Data<Point>("Numbers"));

        error.ExitCode.ShouldBe(ExitCodes.Failure);
        error.Message.ShouldContain(typeof(List<int>).FullName!);
        error.Message.ShouldContain(typeof(Point).FullName!);
    }
}
