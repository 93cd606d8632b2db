using Flow.Sdk.Datastore;
using Flow.Sdk.Tests.Support;

namespace Flow.Sdk.Tests.Runtime;

public sealed class TaskRunnerTests : IDisposable
{
    private readonly PipelineScenario _scenario = new();

    public void Dispose() => _scenario.Dispose();

    private static void SetBasics(PipelineFlow f)
    {
        f.Greeting = "hello";
        f.Numbers = [1, 2, 3];
        f.Origin = new Point(1, 2);
    }

    [Fact]
    public async Task RunAsync_Start_RecordsArtifactsParametersAndNextInDoneJson()
    {
        _scenario.Hooks = new StepHooks { Start = SetBasics };
        var run = _scenario.StartRun(count: 7);

        var returned = await _scenario.RunTaskAsync(run, "Start", "1");

        var done = _scenario.Done(run, "Start", "1");
        done.Status.ShouldBe(AttemptDoneRecord.Succeeded, done.Error?.Message);
        returned.Status.ShouldBe(done.Status);
        done.Next.ShouldBe(["Middle"]);
        done.Artifacts.Keys.ShouldBe(["Count", "Greeting", "Numbers", "Origin"], ignoreOrder: true);
        _scenario.Value<int>(done.Artifacts["Count"]).ShouldBe(7);
        _scenario.Value<string>(done.Artifacts["Greeting"]).ShouldBe("hello");
        _scenario.Value<List<int>>(done.Artifacts["Numbers"]).ShouldBe([1, 2, 3]);
        _scenario.Value<Point>(done.Artifacts["Origin"]).ShouldBe(new Point(1, 2));
        done.Artifacts["Greeting"].Type.ShouldBe(typeof(string).FullName);
    }

    [Fact]
    public async Task RunAsync_Parameter_IsSetOnTheFlowObjectOfEveryStep()
    {
        var seen = new List<int>();
        _scenario.Hooks = new StepHooks { Start = f => seen.Add(f.Count), Middle = f => seen.Add(f.Count), End = f => seen.Add(f.Count) };
        var run = _scenario.StartRun(count: 11);

        (await _scenario.RunAllAsync(run)).ShouldBe("succeeded");

        seen.ShouldBe([11, 11, 11]);
    }

    [Fact]
    public async Task RunAsync_ArtifactSetInStart_IsReadableInMiddleByReference()
    {
        string? read = null;
        _scenario.Hooks = new StepHooks
        {
            Start = SetBasics,
            Middle = f =>
            {
                read = f.Greeting;
                f.Echo = f.Greeting + "!";
            },
        };
        var run = _scenario.StartRun();

        (await _scenario.RunAllAsync(run)).ShouldBe("succeeded");

        read.ShouldBe("hello");
        var start = _scenario.Done(run, "Start", "1");
        var middle = _scenario.Done(run, "Middle", "2");
        middle.Artifacts["Greeting"].ShouldBe(start.Artifacts["Greeting"]);
        _scenario.Value<string>(middle.Artifacts["Echo"]).ShouldBe("hello!");
        start.Artifacts.ShouldNotContainKey("Echo");
    }

    [Fact]
    public async Task RunAsync_InheritedArtifactNeverRead_IsKeptWithTheSameSha()
    {
        _scenario.Hooks = new StepHooks { Start = SetBasics, Middle = f => f.Echo = "unrelated" };
        var run = _scenario.StartRun();

        (await _scenario.RunAllAsync(run)).ShouldBe("succeeded");

        var start = _scenario.Done(run, "Start", "1");
        var end = _scenario.Done(run, "End", "3");
        foreach (var name in new[] { "Count", "Greeting", "Numbers", "Origin" })
        {
            end.Artifacts[name].ShouldBe(start.Artifacts[name], name);
        }
        end.Artifacts.ShouldContainKey("Echo");
    }

    [Fact]
    public async Task RunAsync_ListReadAndChangedInPlace_IsPersistedWithANewSha()
    {
        List<int>? inEnd = null;
        _scenario.Hooks = new StepHooks { Start = SetBasics, Middle = f => f.Numbers.Add(4), End = f => inEnd = f.Numbers };
        var run = _scenario.StartRun();

        (await _scenario.RunAllAsync(run)).ShouldBe("succeeded");

        var start = _scenario.Done(run, "Start", "1");
        var middle = _scenario.Done(run, "Middle", "2");
        middle.Artifacts["Numbers"].Sha.ShouldNotBe(start.Artifacts["Numbers"].Sha);
        _scenario.Value<List<int>>(middle.Artifacts["Numbers"]).ShouldBe([1, 2, 3, 4]);
        _scenario.Value<List<int>>(start.Artifacts["Numbers"]).ShouldBe([1, 2, 3]);
        inEnd.ShouldBe([1, 2, 3, 4]);
    }

    [Fact]
    public async Task RunAsync_ListReadButNotChanged_KeepsTheInheritedSha()
    {
        var sum = 0;
        _scenario.Hooks = new StepHooks { Start = SetBasics, Middle = f => sum = f.Numbers.Sum() + f.Origin.X };
        var run = _scenario.StartRun();

        (await _scenario.RunAllAsync(run)).ShouldBe("succeeded");

        sum.ShouldBe(7);
        var start = _scenario.Done(run, "Start", "1");
        var middle = _scenario.Done(run, "Middle", "2");
        middle.Artifacts["Numbers"].ShouldBe(start.Artifacts["Numbers"]);
        middle.Artifacts["Origin"].ShouldBe(start.Artifacts["Origin"]);
    }

    [Fact]
    public async Task RunAsync_ArtifactReassignedInALaterStep_GetsTheNewValue()
    {
        _scenario.Hooks = new StepHooks { Start = SetBasics, Middle = f => f.Greeting = "bye" };
        var run = _scenario.StartRun();

        (await _scenario.RunAllAsync(run)).ShouldBe("succeeded");

        _scenario.Value<string>(_scenario.Done(run, "End", "3").Artifacts["Greeting"]).ShouldBe("bye");
        _scenario.Value<string>(_scenario.Done(run, "Start", "1").Artifacts["Greeting"]).ShouldBe("hello");
    }

    [Fact]
    public async Task RunAsync_ReadingAnArtifactNeverSet_FailsTheTaskNamingTheArtifact()
    {
        _scenario.Hooks = new StepHooks { Start = SetBasics, Middle = f => f.Echo = f.NeverSet };
        var run = _scenario.StartRun();

        (await _scenario.RunAllAsync(run)).ShouldBe("Middle");

        var done = _scenario.Done(run, "Middle", "2");
        done.Status.ShouldBe(AttemptDoneRecord.Failed);
        done.IsSuccess.ShouldBeFalse();
        var error = done.Error.ShouldNotBeNull();
        error.Type.ShouldBe(typeof(InvalidOperationException).FullName);
        error.Message.ShouldContain("'NeverSet'");
        error.Message.ShouldContain("step Middle");
    }

    [Fact]
    public async Task RunAsync_StepThrows_RecordsTheExceptionTypeAndMessage()
    {
        _scenario.Hooks = new StepHooks { Start = _ => throw new StepFailedException("the input file is empty") };
        var run = _scenario.StartRun();

        var returned = await _scenario.RunTaskAsync(run, "Start", "1");

        var done = _scenario.Done(run, "Start", "1");
        done.Status.ShouldBe(AttemptDoneRecord.Failed);
        returned.Status.ShouldBe(AttemptDoneRecord.Failed);
        var error = done.Error.ShouldNotBeNull();
        error.Type.ShouldBe(typeof(StepFailedException).FullName);
        error.Message.ShouldBe("the input file is empty");
        error.StackTrace.ShouldNotBeNull().ShouldContain(nameof(StepFailedException));
    }

    [Fact]
    public async Task RunAsync_AfterAFailedStep_TheNextStepCannotStartFromIt()
    {
        _scenario.Hooks = new StepHooks { Start = _ => throw new StepFailedException("boom") };
        var run = _scenario.StartRun();
        await _scenario.RunTaskAsync(run, "Start", "1");

        var done = await _scenario.RunTaskAsync(run, "Middle", "2", $"{run}/Start/1");

        done.IsSuccess.ShouldBeFalse();
        done.Error!.Message.ShouldContain("Start/1");
        done.Error.Message.ShouldContain("no successful attempt");
    }

    [Fact]
    public async Task RunAsync_ArtifactWhoseGetterThrows_FailsNamingArtifactTypeAndStep()
    {
        _scenario.Hooks = new StepHooks { Start = f => f.Exploding = new ExplodingValue() };
        var run = _scenario.StartRun();

        await _scenario.RunTaskAsync(run, "Start", "1");

        AssertSerializationFailure(_scenario.Done(run, "Start", "1"), "Exploding", typeof(ExplodingValue), "Start");
    }

    [Fact]
    public async Task RunAsync_ArtifactHoldingAType_FailsNamingArtifactTypeAndStep()
    {
        _scenario.Hooks = new StepHooks { Start = SetBasics, Middle = f => f.Types = new TypeHolder() };
        var run = _scenario.StartRun();

        (await _scenario.RunAllAsync(run)).ShouldBe("Middle");

        AssertSerializationFailure(_scenario.Done(run, "Middle", "2"), "Types", typeof(TypeHolder), "Middle");
    }

    [Fact]
    public async Task RunAsync_ArtifactHoldingAnIntPtr_FailsNamingArtifactTypeAndStep()
    {
        _scenario.Hooks = new StepHooks { Start = f => f.Handles = new HandleHolder() };
        var run = _scenario.StartRun();

        await _scenario.RunTaskAsync(run, "Start", "1");

        AssertSerializationFailure(_scenario.Done(run, "Start", "1"), "Handles", typeof(HandleHolder), "Start");
    }

    [Fact]
    public async Task RunAsync_ArtifactWhoseGetterThrowsAnyException_StillFinalizesAFailedAttempt()
    {
        _scenario.Hooks = new StepHooks { Start = f => f.Faulty = new FaultyValue() };
        var run = _scenario.StartRun();

        var returned = await _scenario.RunTaskAsync(run, "Start", "1");

        returned.Status.ShouldBe(AttemptDoneRecord.Failed);
        AssertSerializationFailure(_scenario.Done(run, "Start", "1"), "Faulty", typeof(FaultyValue), "Start");
    }

    [Fact]
    public async Task RunAsync_StepThrowsAfterSettingAnUnserializableArtifact_RecordsTheStepError()
    {
        _scenario.Hooks = new StepHooks
        {
            Start = f =>
            {
                f.Types = new TypeHolder();
                throw new StepFailedException("failed after assigning");
            },
        };
        var run = _scenario.StartRun();

        var returned = await _scenario.RunTaskAsync(run, "Start", "1");

        returned.Status.ShouldBe(AttemptDoneRecord.Failed);
        var error = _scenario.Done(run, "Start", "1").Error.ShouldNotBeNull();
        error.Type.ShouldBe(typeof(StepFailedException).FullName);
        error.Message.ShouldBe("failed after assigning");
    }

    private static void AssertSerializationFailure(AttemptDoneRecord done, string artifact, Type type, string step)
    {
        done.Status.ShouldBe(AttemptDoneRecord.Failed);
        var error = done.Error.ShouldNotBeNull();
        error.Message.ShouldContain($"'{artifact}'");
        error.Message.ShouldContain(type.FullName!);
        error.Message.ShouldContain($"step {step}");
        done.Artifacts.ShouldNotContainKey(artifact);
    }

    [Fact]
    public async Task RunAsync_NextToAStepOtherThanTheGraphs_FailsWithATransitionError()
    {
        _scenario.Hooks = new StepHooks { Start = SetBasics, StartTransition = StartTransition.End };
        var run = _scenario.StartRun();

        var returned = await _scenario.RunTaskAsync(run, "Start", "1");

        returned.Status.ShouldBe(AttemptDoneRecord.Failed);
        var error = _scenario.Done(run, "Start", "1").Error.ShouldNotBeNull();
        error.Type.ShouldBe("TransitionError");
        error.Message.ShouldContain("Next(End)");
        error.Message.ShouldContain("Next(Middle)");
    }

    [Fact]
    public async Task RunAsync_LinearStepWithoutNext_FailsWithATransitionError()
    {
        _scenario.Hooks = new StepHooks { StartTransition = StartTransition.None };
        var run = _scenario.StartRun();

        await _scenario.RunTaskAsync(run, "Start", "1");

        var error = _scenario.Done(run, "Start", "1").Error.ShouldNotBeNull();
        error.Type.ShouldBe("TransitionError");
        error.Message.ShouldContain("without calling Next");
    }

    [Fact]
    public async Task RunAsync_UnknownStep_FailsWithStepNotFound()
    {
        var run = _scenario.StartRun();

        var returned = await _scenario.RunTaskAsync(run, "Train", "1");

        returned.Status.ShouldBe(AttemptDoneRecord.Failed);
        var error = _scenario.Done(run, "Train", "1").Error.ShouldNotBeNull();
        error.Type.ShouldBe("StepNotFound");
        error.Message.ShouldContain("Train");
    }

    [Fact]
    public async Task RunAsync_CorruptedInheritedBlob_FailsTheReadingStepNamingTheArtifact()
    {
        _scenario.Hooks = new StepHooks { Start = SetBasics, Middle = f => f.Echo = f.Greeting };
        var run = _scenario.StartRun();
        await _scenario.RunTaskAsync(run, "Start", "1");
        _scenario.CorruptBlob(_scenario.Done(run, "Start", "1").Artifacts["Greeting"].Sha);

        var returned = await _scenario.RunTaskAsync(run, "Middle", "2", $"{run}/Start/1");

        returned.Status.ShouldBe(AttemptDoneRecord.Failed);
        var error = _scenario.Done(run, "Middle", "2").Error.ShouldNotBeNull();
        error.Type.ShouldBe(typeof(FlowException).FullName);
        error.Message.ShouldContain("'Greeting'");
        error.Message.ShouldContain("cannot be read");
    }

    [Fact]
    public async Task RunAsync_InsideAStep_CurrentNamesTheTask()
    {
        string? pathspec = null;
        var attempt = -1;
        _scenario.Hooks = new StepHooks
        {
            Middle = _ =>
            {
                pathspec = Current.Pathspec;
                attempt = Current.Attempt;
            },
        };
        var run = _scenario.StartRun();

        (await _scenario.RunAllAsync(run)).ShouldBe("succeeded");

        pathspec.ShouldBe($"{PipelineScenario.FlowName}/{run}/Middle/2");
        attempt.ShouldBe(0);
        Current.IsRunning.ShouldBeFalse();
    }

    [Fact]
    public async Task RunAsync_FinishedTask_WritesStartedAndDoneRecords()
    {
        var run = _scenario.StartRun();

        await _scenario.RunTaskAsync(run, "Start", "1");
        await _scenario.RunTaskAsync(run, "Middle", "2", $"{run}/Start/1");

        var attemptDir = _scenario.Store.AttemptDir(PipelineScenario.FlowName, run, "Middle", "2", 0);
        _scenario.Store.ReadAttemptStart(attemptDir).ShouldNotBeNull().InputPaths.ShouldBe([$"{run}/Start/1"]);
        _scenario.Store.ListAttempts(PipelineScenario.FlowName, run, "Middle", "2").ShouldBe([0]);
    }
}
