using System.Text;
using System.Text.Json;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;
using Flow.Sdk.Tests.Support;
using Flow.Tests;

namespace Flow.Sdk.Tests.Client;

/// <summary>
/// The client API on runs built directly in a datastore: namespaces as tags, user tags and their limits, the code
/// snapshot, attempts and failures, parents and children, foreach values, untyped and typed artifact reads.
/// These tests never touch <see cref="FlowClient"/>'s static state (see <see cref="GlobalClientApiTests"/>).
/// </summary>
public sealed class ClientApiTests
{
    private const string Flow = "ApiFlow";

    private readonly SyntheticRuns _runs = SyntheticRuns.InMemory();

    private FlowInfo FlowInfo => _runs.Flow(Flow);

    private RunInfo Run(string id) => _runs.Run(Flow, id);

    private TaskInfo TaskOf(string run, string step, string task) => Run(run)[step][task];

    // ---- namespaces ----------------------------------------------------------------------------------------

    [Fact]
    public void Namespace_Global_IsNull() => Namespace.Global.ShouldBeNull();

    [Fact]
    public void Namespace_User_IsTheUserTag() => Namespace.User("ada").ShouldBe("user:ada");

    [Fact]
    public void RunsIn_UserNamespace_HidesAnotherUsersRuns()
    {
        var ada1 = _runs.AddRun(Flow, 0, user: "ada");
        _runs.AddRun(Flow, 10, user: "bob");
        var ada2 = _runs.AddRun(Flow, 20, user: "ada");

        FlowInfo.RunsIn(Namespace.User("ada")).Select(r => r.Id).ShouldBe([ada2, ada1]);
        FlowInfo.RunsIn(Namespace.User("ada")).ShouldAllBe(r => r.User == "ada");
    }

    [Fact]
    public void RunsIn_Global_ShowsEveryUsersRunsNewestFirst()
    {
        var a = _runs.AddRun(Flow, 0, user: "ada");
        var b = _runs.AddRun(Flow, 10, user: "bob");
        var c = _runs.AddRun(Flow, 20, user: "carol");

        FlowInfo.RunsIn(Namespace.Global).Select(r => r.Id).ShouldBe([c, b, a]);
    }

    [Fact]
    public void RunsIn_UserTag_ShowsTheTaggedRunsOfEveryUser()
    {
        var a = _runs.AddRun(Flow, 0, user: "ada", tags: ["exp-1"]);
        _runs.AddRun(Flow, 10, user: "ada");
        var b = _runs.AddRun(Flow, 20, user: "bob", tags: ["other", "exp-1"]);

        FlowInfo.RunsIn("exp-1").Select(r => r.Id).ShouldBe([b, a]);
    }

    [Fact]
    public void RunsIn_UserTag_FollowsTagsAddedAndRemovedThroughTheClient()
    {
        var id = _runs.AddRun(Flow, 0);
        FlowInfo.RunsIn("exp-2").ShouldBeEmpty();

        Run(id).AddTags("exp-2");
        FlowInfo.RunsIn("exp-2").Select(r => r.Id).ShouldBe([id]);

        Run(id).RemoveTags("exp-2");
        FlowInfo.RunsIn("exp-2").ShouldBeEmpty();
    }

    [Fact]
    public void RunsIn_SystemTag_MatchesEveryRunCarryingIt()
    {
        _runs.AddRun(Flow, 0, user: "ada");
        _runs.AddRun(Flow, 10, user: "bob");

        FlowInfo.RunsIn("runtime:test").Count().ShouldBe(2);
    }

    [Fact]
    public void Run_FromTheIndex_DescribesItsUserTimeTagsAndStatus()
    {
        var id = _runs.AddRun(Flow, 7, user: "bob", status: "failed", tags: ["t"]);

        var run = FlowInfo.RunsIn(Namespace.Global).ShouldHaveSingleItem();

        run.Id.ShouldBe(id);
        run.Pathspec.ShouldBe($"{Flow}/{id}");
        run.User.ShouldBe("bob");
        run.StartedAt.ShouldBe(SyntheticRuns.Time(7));
        run.SystemTags.ShouldBe(["user:bob", "runtime:test"]);
        run.Tags.ShouldBe(["t"]);
        run.Status.ShouldBe("failed");
        run.Finished.ShouldBeTrue();
        run.Successful.ShouldBeFalse();
        run.FinishedAt.ShouldBe(SyntheticRuns.Time(7).AddMinutes(1));
    }

    [Fact]
    public void Run_WithoutEndAndWithoutHeartbeat_HasFailed()
    {
        var id = _runs.AddRun(Flow, 0, status: null);

        Run(id).Status.ShouldBe("failed");
        Run(id).Finished.ShouldBeTrue();
        Run(id).FinishedAt.ShouldBeNull();
    }

    [Fact]
    public void Run_WithFreshHeartbeatFromAnotherMachine_IsRunning()
    {
        var id = _runs.AddRun(Flow, 0, status: null);
        _runs.Fs.File.WriteAllText(_runs.Store.RunHeartbeatPath(Flow, id), "1@another-machine");

        Run(id).Status.ShouldBe("running");
        Run(id).Finished.ShouldBeFalse();
    }

    // ---- tags ----------------------------------------------------------------------------------------------

    [Fact]
    public void AddTags_NewTags_AreStoredInOrderAfterTheExistingOnes()
    {
        var id = _runs.AddRun(Flow, 0, tags: ["a"]);

        Run(id).AddTags("c", "b");

        Run(id).Tags.ShouldBe(["a", "c", "b"]);
    }

    [Fact]
    public void AddTags_TagsTheRunHasOrNamedTwice_AreStoredOnce()
    {
        var id = _runs.AddRun(Flow, 0, tags: ["a"]);

        Run(id).AddTags("a", "b", "b");

        Run(id).Tags.ShouldBe(["a", "b"]);
    }

    [Fact]
    public void AddTags_WithASystemTagPrefix_IsRefused_SoNoRunJoinsAnotherUsersNamespace()
    {
        var id = _runs.AddRun(Flow, 0, user: "ada");

        Should.Throw<FlowException>(() => Run(id).AddTags("user:bob")).Message.ShouldContain("reserved");
        Should.Throw<FlowException>(() => Run(id).AddTags("runtime:test")).Message.ShouldContain("reserved");

        Run(id).Tags.ShouldBeEmpty();
        Run(id).SystemTags.ShouldBe(["user:ada", "runtime:test"]);
    }

    [Fact]
    public void AddTags_NothingNew_WritesNothing()
    {
        var id = _runs.AddRun(Flow, 0, tags: ["a"]);
        var lines = _runs.IndexLines(Flow).Count;

        Run(id).AddTags("a");
        Run(id).RemoveTags("not-there");

        _runs.IndexLines(Flow).Count.ShouldBe(lines);
    }

    [Fact]
    public void RemoveTags_UserTags_AreRemovedAndTheOthersKept()
    {
        var id = _runs.AddRun(Flow, 0, tags: ["a", "b", "c"]);

        Run(id).RemoveTags("a", "c", "not-there");

        Run(id).Tags.ShouldBe(["b"]);
    }

    [Fact]
    public void RemoveTags_SystemTag_ThrowsNamingItAndTheRunAndChangesNothing()
    {
        var id = _runs.AddRun(Flow, 0, user: "ada", tags: ["a"]);

        var error = Should.Throw<FlowException>(() => Run(id).RemoveTags("a", "user:ada"));

        error.Message.ShouldBe($"'user:ada' is a system tag of run {Flow}/{id}; system tags cannot be removed.");
        Run(id).Tags.ShouldBe(["a"]);
        Run(id).SystemTags.ShouldContain("user:ada");
    }

    [Fact]
    public void RemoveTags_SystemTagOfARunFromTheIndex_Throws()
    {
        _runs.AddRun(Flow, 0, user: "ada");
        var run = FlowInfo.RunsIn(Namespace.Global).Single();

        Should.Throw<FlowException>(() => run.RemoveTags("runtime:test")).Message.ShouldContain("'runtime:test' is a system tag");
    }

    [Fact]
    public void ReplaceTags_SwapsTheTagsInOneChange()
    {
        var id = _runs.AddRun(Flow, 0, tags: ["candidate", "keep"]);
        var lines = _runs.IndexLines(Flow).Count;

        Run(id).ReplaceTags(remove: ["candidate"], add: ["production"]);

        Run(id).Tags.ShouldBe(["keep", "production"]);
        _runs.IndexLines(Flow).Count.ShouldBe(lines + 1, "one tags line: no reader sees the run with neither tag");
        FlowInfo.RunsIn("production").ShouldHaveSingleItem().Id.ShouldBe(id);
        FlowInfo.RunsIn("candidate").ShouldBeEmpty();
    }

    [Fact]
    public void ReplaceTags_RemovingASystemTag_ThrowsAndAddsNothing()
    {
        var id = _runs.AddRun(Flow, 0, user: "ada");

        Should.Throw<FlowException>(() => Run(id).ReplaceTags(remove: ["user:ada"], add: ["bob"]))
            .Message.ShouldContain("system tags cannot be removed");

        Run(id).Tags.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("   ")]
    [InlineData("\t")]
    [InlineData("line\nbreak")]
    [InlineData("carriage\rreturn")]
    [InlineData("nul\0char")]
    [InlineData("bell\u0007")]
    [InlineData("del\u007f")]
    [InlineData("c1\u0085control")]
    public void AddTags_InvalidTag_ThrowsAndChangesNothing(string tag)
    {
        var id = _runs.AddRun(Flow, 0, tags: ["a"]);

        var error = Should.Throw<FlowException>(() => Run(id).AddTags("fine", tag));

        error.Message.ShouldContain("is invalid: a tag has 1 to 500 characters, not only spaces, and no control characters.");
        Run(id).Tags.ShouldBe(["a"]);
    }

    [Fact]
    public void AddTags_501Characters_ThrowsShowingOnlyTheTagsStart()
    {
        var id = _runs.AddRun(Flow, 0);
        var tag = new string('x', 501);

        var error = Should.Throw<FlowException>(() => Run(id).AddTags(tag));

        error.Message.ShouldStartWith($"Tag '{new string('x', 40)}...' is invalid");
        Run(id).Tags.ShouldBeEmpty();
    }

    [Fact]
    public void AddTags_500Characters_IsStored()
    {
        var id = _runs.AddRun(Flow, 0);
        var tag = new string('x', 500);

        Run(id).AddTags(tag);

        Run(id).Tags.ShouldBe([tag]);
        FlowInfo.RunsIn(tag).ShouldHaveSingleItem();
    }

    [Fact]
    public void ReplaceTags_InvalidTagToAdd_ThrowsAndRemovesNothing()
    {
        var id = _runs.AddRun(Flow, 0, tags: ["a"]);

        Should.Throw<FlowException>(() => Run(id).ReplaceTags(remove: ["a"], add: [""]));

        Run(id).Tags.ShouldBe(["a"]);
    }

    [Fact]
    public void AddTags_Null_ThrowsArgumentNull()
    {
        var id = _runs.AddRun(Flow, 0);

        Should.Throw<ArgumentNullException>(() => Run(id).AddTags(null!));
        Should.Throw<ArgumentNullException>(() => Run(id).AddTags("a", null!));
        Should.Throw<ArgumentNullException>(() => Run(id).ReplaceTags(null!, ["a"]));
    }

    [Fact]
    public void AddTags_UpTo50_AreStored()
    {
        var id = _runs.AddRun(Flow, 0, tags: [.. Enumerable.Range(0, 49).Select(i => $"t{i}")]);

        Run(id).AddTags("t49");

        Run(id).Tags.Count.ShouldBe(50);
    }

    [Fact]
    public void AddTags_Beyond50_ThrowsAndChangesNothing()
    {
        var existing = Enumerable.Range(0, 49).Select(i => $"t{i}").ToList();
        var id = _runs.AddRun(Flow, 0, tags: existing);

        var error = Should.Throw<FlowException>(() => Run(id).AddTags("t49", "t50"));

        error.Message.ShouldBe($"Run {Flow}/{id} would have 51 user tags; a run has at most 50 (remove some first).");
        Run(id).Tags.ShouldBe(existing);
    }

    [Fact]
    public void ReplaceTags_At50_SwapsOneForAnother()
    {
        var id = _runs.AddRun(Flow, 0, tags: [.. Enumerable.Range(0, 50).Select(i => $"t{i}")]);

        Run(id).ReplaceTags(remove: ["t0"], add: ["new"]);

        Run(id).Tags.Count.ShouldBe(50);
        Run(id).Tags.ShouldContain("new");
        Run(id).Tags.ShouldNotContain("t0");
    }

    // ---- code ----------------------------------------------------------------------------------------------

    private string Snapshot(params (string Path, string Text)[] files)
    {
        var json = new StringBuilder("{\"format\":1,\"sdkVersion\":\"0.1.0\",\"assembly\":\"ApiFlow.dll\",\"projectPath\":\"src/ApiFlow.csproj\",\"files\":[");
        json.AppendJoin(",", files.Select(f =>
        {
            var bytes = Encoding.UTF8.GetBytes(f.Text);
            return $"{{\"path\":\"{f.Path}\",\"sha\":\"{_runs.Store.Blobs.Put(bytes)}\",\"size\":{bytes.Length}}}";
        }));
        json.Append("],\"flows\":[]}");
        return _runs.Store.Blobs.Put(Encoding.UTF8.GetBytes(json.ToString()));
    }

    [Fact]
    public void Code_IsTheRunsSnapshot_ListingOnlyItsSources()
    {
        var hash = Snapshot(("src/ApiFlow.cs", "class ApiFlow {}"), ("src/Lib/Util.cs", "// util"), ("src/ApiFlow.csproj", "<Project />"), ("bin/ApiFlow.dll", "MZ"));
        var id = _runs.AddRun(Flow, 0, snapshot: hash);

        var code = Run(id).Code;

        code.Hash.ShouldBe(hash);
        code.ToString().ShouldBe(hash);
        code.Sources.ShouldBe(["ApiFlow.cs", "Lib/Util.cs", "ApiFlow.csproj"]);
    }

    [Fact]
    public void Code_ExtractTo_WritesTheSourcesAsTheyWere()
    {
        var hash = Snapshot(("src/ApiFlow.cs", "class ApiFlow {}"), ("src/Lib/Util.cs", "// util"), ("bin/ApiFlow.dll", "MZ"));
        var id = _runs.AddRun(Flow, 0, snapshot: hash);
        var target = _runs.Fs.Path.Combine(_runs.Fs.Path.GetTempPath(), "extracted");

        Run(id).Code.ExtractTo(target).ShouldBe(2);

        _runs.Fs.File.ReadAllText(_runs.Fs.Path.Combine(target, "ApiFlow.cs")).ShouldBe("class ApiFlow {}");
        _runs.Fs.File.ReadAllText(_runs.Fs.Path.Combine(target, "Lib", "Util.cs")).ShouldBe("// util");
        _runs.Fs.File.Exists(_runs.Fs.Path.Combine(target, "ApiFlow.dll")).ShouldBeFalse();
    }

    [Fact]
    public void Code_ExtractTo_PathOutsideTheFolder_ThrowsAndWritesNothingThere()
    {
        var hash = Snapshot(("src/../../escaped.cs", "evil"));
        var id = _runs.AddRun(Flow, 0, snapshot: hash);
        var target = _runs.Fs.Path.Combine(_runs.Fs.Path.GetTempPath(), "a", "b");

        var error = Should.Throw<FlowException>(() => Run(id).Code.ExtractTo(target));

        error.Message.ShouldContain("points outside the folder");
        _runs.Fs.File.Exists(_runs.Fs.Path.Combine(_runs.Fs.Path.GetTempPath(), "escaped.cs")).ShouldBeFalse();
    }

    [Fact]
    public void Code_RunWithoutSnapshot_ThrowsWhenItsFilesAreRead()
    {
        var id = _runs.AddRun(Flow, 0, snapshot: "no-snapshot");

        var code = Run(id).Code;

        code.Hash.ShouldBe("no-snapshot");
        Should.Throw<FlowException>(() => code.Sources).Message.ShouldContain("has no code snapshot");
    }

    // ---- attempts and failures -------------------------------------------------------------------------------

    private static readonly ErrorRecord Boom = new("System.InvalidOperationException", "boom", "   at ApiFlow.Train() in ApiFlow.cs:line 12");

    [Fact]
    public void Task_FailedThenRetriedSuccessfully_IsTheSuccessfulAttemptAndKeepsTheFailure()
    {
        var run = _runs.AddRun(Flow, 0);
        _runs.AddAttempt(Flow, run, "Train", "2", attempt: 0, status: AttemptDoneRecord.Failed, error: Boom, stdout: "first try");
        _runs.AddAttempt(Flow, run, "Train", "2", attempt: 1, artifacts: new Dictionary<string, ArtifactRef> { ["Score"] = _runs.Artifact(0.9) }, stdout: "second try");

        var task = TaskOf(run, "Train", "2");

        task.Attempt.ShouldBe(1);
        task.Status.ShouldBe("succeeded");
        task.Successful.ShouldBeTrue();
        task.Exception.ShouldBeNull();
        task.Error.ShouldBeNull();
        task.Data<double>("Score").ShouldBe(0.9);
        task.Stdout.ShouldBe("second try" + Environment.NewLine);

        task.Attempts.Select(a => a.Number).ShouldBe([0, 1]);
        var failed = task.Attempts[0];
        failed.Status.ShouldBe("failed");
        failed.Exception.ShouldBe(new StepError(Boom.Type, Boom.Message, Boom.StackTrace));
        failed.StartedAt.ShouldBe(SyntheticRuns.Time(60));
        failed.FinishedAt.ShouldBe(SyntheticRuns.Time(61));
        failed.Stdout.ShouldBe("first try" + Environment.NewLine);
        failed.Task.ShouldBeSameAs(task);
        failed.ToString().ShouldBe($"Attempt('{task.Pathspec}', 0)");
        task.Attempts[1].Status.ShouldBe("succeeded");
        task.Attempts[1].Exception.ShouldBeNull();
    }

    [Fact]
    public void Task_FailedOnItsLastAttempt_ExceptionIsTheLastAttempts()
    {
        var run = _runs.AddRun(Flow, 0, status: "failed");
        _runs.AddAttempt(Flow, run, "Train", "2", attempt: 0, status: AttemptDoneRecord.Failed, error: new ErrorRecord("System.IO.IOException", "disk", null));
        _runs.AddAttempt(Flow, run, "Train", "2", attempt: 1, status: AttemptDoneRecord.Failed, error: Boom);

        var task = TaskOf(run, "Train", "2");

        task.Successful.ShouldBeFalse();
        task.Status.ShouldBe("failed");
        task.Exception.ShouldBe(new StepError("System.InvalidOperationException", "boom", Boom.StackTrace));
        task.Error.ShouldBe("System.InvalidOperationException: boom");
        task.Attempts[0].Exception.ShouldBe(new StepError("System.IO.IOException", "disk", null));
    }

    [Fact]
    public void Attempts_MoreThanTen_AreInNumericOrder()
    {
        var run = _runs.AddRun(Flow, 0);
        foreach (var attempt in new[] { 10, 2, 0, 11, 1 })
        {
            _runs.AddAttempt(Flow, run, "Train", "2", attempt, status: attempt == 11 ? AttemptDoneRecord.Succeeded : AttemptDoneRecord.Failed, error: attempt == 11 ? null : Boom);
        }

        var task = TaskOf(run, "Train", "2");

        task.Attempts.Select(a => a.Number).ShouldBe([0, 1, 2, 10, 11]);
        task.Attempt.ShouldBe(11);
        task.Successful.ShouldBeTrue();
    }

    [Fact]
    public void Attempt_NeverFinalized_IsUnfinishedAndTheTaskDied()
    {
        var run = _runs.AddRun(Flow, 0, status: null);
        _runs.AddAttempt(Flow, run, "Train", "2", attempt: 0, status: AttemptDoneRecord.Failed, error: Boom);
        _runs.AddAttempt(Flow, run, "Train", "2", attempt: 1, status: null);

        var task = TaskOf(run, "Train", "2");

        task.Attempt.ShouldBe(1);
        task.Finished.ShouldBeFalse();
        task.Status.ShouldBe("died");
        task.Exception.ShouldBeNull("the latest attempt has not failed (yet)");
        task.Attempts[1].Status.ShouldBe("unfinished");
        task.Attempts[1].FinishedAt.ShouldBeNull();
        task.Attempts[1].Exception.ShouldBeNull();
        task.Attempts[0].Exception.ShouldNotBeNull().Message.ShouldBe("boom");
    }

    [Fact]
    public void Attempt_NeverFinalizedWithAFreshHeartbeat_IsRunning()
    {
        var run = _runs.AddRun(Flow, 0, status: null);
        _runs.AddAttempt(Flow, run, "Train", "2", attempt: 0, status: null);
        _runs.Fs.File.WriteAllText(_runs.Fs.Path.Combine(_runs.AttemptDir(Flow, run, "Train", "2"), "heartbeat"), "beat");

        TaskOf(run, "Train", "2").Status.ShouldBe("running");
    }

    // ---- parents and children ------------------------------------------------------------------------------

    /// <summary>Start/1 splits into A/2 and B/3; Join/4 takes B then A; End/5 follows the join.</summary>
    private string SplitAndJoin()
    {
        var run = _runs.AddRun(Flow, 0);
        _runs.AddAttempt(Flow, run, "Start", "1");
        _runs.AddAttempt(Flow, run, "A", "2", inputs: [$"{run}/Start/1"]);
        _runs.AddAttempt(Flow, run, "B", "3", inputs: [$"{run}/Start/1"]);
        _runs.AddAttempt(Flow, run, "Join", "4", inputs: [$"{run}/B/3", $"{run}/A/2"]);
        _runs.AddAttempt(Flow, run, "End", "5", inputs: [$"{run}/Join/4"]);
        return run;
    }

    [Fact]
    public void Parents_OfAJoin_AreItsInputsInInputOrder()
    {
        var run = SplitAndJoin();

        TaskOf(run, "Join", "4").Parents.Select(t => t.Pathspec).ShouldBe([$"{Flow}/{run}/B/3", $"{Flow}/{run}/A/2"]);
        TaskOf(run, "A", "2").Parents.ShouldHaveSingleItem().Pathspec.ShouldBe($"{Flow}/{run}/Start/1");
    }

    [Fact]
    public void Children_OfASplit_AreTheTasksThatTookItAsInput()
    {
        var run = SplitAndJoin();

        TaskOf(run, "Start", "1").Children.Select(t => t.Pathspec).ShouldBe([$"{Flow}/{run}/A/2", $"{Flow}/{run}/B/3"]);
        TaskOf(run, "B", "3").Children.ShouldHaveSingleItem().Pathspec.ShouldBe($"{Flow}/{run}/Join/4");
    }

    [Fact]
    public void ParentsAndChildren_AtTheEdgesOfTheGraph_AreEmpty()
    {
        var run = SplitAndJoin();

        TaskOf(run, "Start", "1").Parents.ShouldBeEmpty();
        TaskOf(run, "End", "5").Children.ShouldBeEmpty();
    }

    [Fact]
    public void Parents_InputFromAnotherRun_IsThatRunsTask()
    {
        var origin = _runs.AddRun(Flow, 0);
        _runs.AddAttempt(Flow, origin, "Start", "1", artifacts: new Dictionary<string, ArtifactRef> { ["X"] = _runs.Artifact(5) });
        var resumed = _runs.AddRun(Flow, 10);
        _runs.AddAttempt(Flow, resumed, "Middle", "2", inputs: [$"{origin}/Start/1"]);

        var parent = TaskOf(resumed, "Middle", "2").Parents.ShouldHaveSingleItem();

        parent.Pathspec.ShouldBe($"{Flow}/{origin}/Start/1");
        parent.Step.Run.Id.ShouldBe(origin);
        parent.Data<int>("X").ShouldBe(5);
    }

    [Fact]
    public void Parents_MalformedInputPath_IsSkipped()
    {
        var run = _runs.AddRun(Flow, 0);
        _runs.AddAttempt(Flow, run, "Start", "1");
        _runs.AddAttempt(Flow, run, "End", "2", inputs: ["garbage", $"{run}/Start/1", "a/b/c/d"]);

        TaskOf(run, "End", "2").Parents.Select(t => t.Pathspec).ShouldBe([$"{Flow}/{run}/Start/1"]);
    }

    [Fact]
    public void Steps_AreInTheOrderOfTheirFirstTask()
    {
        var run = SplitAndJoin();

        Run(run).Steps.Select(s => s.Name).ShouldBe(["Start", "A", "B", "Join", "End"]);
    }

    // ---- foreach -------------------------------------------------------------------------------------------

    private FrameRecord ForEach(string step, int index, int count, ArtifactRef? item) => new(FrameRecord.ForEach, step, "1", index, count, item);

    private TaskInfo TaskWithFrames(params FrameRecord[] frames)
    {
        var run = _runs.AddRun(Flow, 0);
        _runs.AddAttempt(Flow, run, "Work", "7", frames: frames);
        return TaskOf(run, "Work", "7");
    }

    [Fact]
    public void ForeachValue_InsideAForeach_IsTheStoredItem()
    {
        var task = TaskWithFrames(ForEach("Start", 1, 3, _runs.Artifact("b")));

        task.ForeachValue<string>().ShouldBe("b");
        task.Index.ShouldBe(1);
        task.ForeachIndices.ShouldBe([1]);
    }

    [Fact]
    public void ForeachValue_NestedForeach_IsTheInnermostItem()
    {
        var task = TaskWithFrames(ForEach("Start", 0, 2, _runs.Artifact(new Point(1, 2))), ForEach("Inner", 2, 3, _runs.Artifact(new Point(3, 4))));

        task.ForeachValue<Point>().ShouldBe(new Point(3, 4));
        task.ForeachIndices.ShouldBe([0, 2]);
        task.Index.ShouldBe(2);
    }

    [Fact]
    public void ForeachValue_SplitInsideAForeach_IsStillTheForeachItem()
    {
        var task = TaskWithFrames(ForEach("Start", 4, 5, _runs.Artifact(7)), new FrameRecord(FrameRecord.Split, "Fan", "2", 1, 2));

        task.ForeachValue<int>().ShouldBe(7);
        task.ForeachIndices.ShouldBe([4]);
    }

    [Fact]
    public void ForeachValue_OutsideAForeach_ThrowsNamingTheTask()
    {
        var plain = TaskWithFrames();
        var split = TaskWithFrames(new FrameRecord(FrameRecord.Split, "Fan", "2", 0, 2));

        Should.Throw<FlowException>(() => plain.ForeachValue<int>()).Message.ShouldBe($"Task {plain.Pathspec} is not inside a foreach, so it has no foreach value.");
        Should.Throw<FlowException>(() => split.ForeachValue<int>()).Message.ShouldContain("is not inside a foreach");
        plain.Index.ShouldBeNull();
        plain.ForeachIndices.ShouldBeEmpty();
    }

    [Fact]
    public void ForeachValue_FrameWithoutAStoredItem_Throws()
    {
        var task = TaskWithFrames(ForEach("Start", 0, 1, item: null));

        Should.Throw<FlowException>(() => task.ForeachValue<string>()).Message.ShouldBe($"Task {task.Pathspec} has no stored foreach item.");
    }

    // ---- artifacts -----------------------------------------------------------------------------------------

    private TaskInfo TaskWithArtifacts(out string run)
    {
        run = _runs.AddRun(Flow, 0);
        _runs.AddAttempt(Flow, run, "Start", "1", artifacts: new Dictionary<string, ArtifactRef>
        {
            ["Count"] = _runs.Artifact(42),
            ["Name"] = _runs.Artifact("hello \"world\""),
            ["Scores"] = _runs.Artifact(new List<int> { 3, 1, 2 }),
            ["Origin"] = _runs.Artifact(new Point(1, -2)),
            ["Raw"] = _runs.Artifact(new byte[] { 1, 2, 3, 255 }),
            ["Weights"] = _runs.Artifact(new[] { 0.5, 1.5 }),
            ["Nothing"] = _runs.Artifact<string?>(null),
        });
        return TaskOf(run, "Start", "1");
    }

    [Fact]
    public void Data_ByName_IsTheValueAsJson()
    {
        var task = TaskWithArtifacts(out _);

        task.Data("Count").GetInt32().ShouldBe(42);
        task.Data("Name").GetString().ShouldBe("hello \"world\"");
        task.Data("Scores").EnumerateArray().Select(e => e.GetInt32()).ShouldBe([3, 1, 2]);
        task.Data("Origin").GetProperty("X").GetInt32().ShouldBe(1);
        task.Data("Origin").GetProperty("Y").GetInt32().ShouldBe(-2);
        task.Data("Raw").GetBytesFromBase64().ShouldBe(new byte[] { 1, 2, 3, 255 });
        task.Data("Weights").EnumerateArray().Select(e => e.GetDouble()).ShouldBe([0.5, 1.5]);
        task.Data("Nothing").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public void Data_ByName_OutlivesTheDocumentItWasParsedFrom()
    {
        var element = TaskWithArtifacts(out _).Data("Origin");

        GC.Collect();

        element.GetRawText().ShouldBe("{\"X\":1,\"Y\":-2}");
    }

    [Fact]
    public void Data_UnknownName_ThrowsNamingIt()
    {
        var task = TaskWithArtifacts(out _);

        Should.Throw<FlowException>(() => task.Data("Missing")).Message.ShouldBe($"Task {task.Pathspec} has no artifact 'Missing'.");
    }

    [Fact]
    public void Artifacts_AreListedByNameWithTheirTypesAndSizes()
    {
        var task = TaskWithArtifacts(out _);

        task.Artifacts.Select(a => a.Name).ShouldBe(["Count", "Name", "Nothing", "Origin", "Raw", "Scores", "Weights"]);
        task["Raw"].Size.ShouldBe(4);
        task["Raw"].Type.ShouldBe(typeof(byte[]).FullName);
        task["Origin"].Type.ShouldBe(typeof(Point).FullName);
        task["Origin"].Pathspec.ShouldBe($"{task.Pathspec}/Origin");
    }

    [Fact]
    public void Value_CalledTwice_ReturnsTheSameObject()
    {
        var artifact = TaskWithArtifacts(out _)["Scores"];

        var first = artifact.Value<List<int>>();
        var second = artifact.Value<List<int>>();

        second.ShouldBeSameAs(first);
        first.ShouldBe([3, 1, 2]);
    }

    [Fact]
    public void Value_AfterTheFirstLoad_DoesNotReadTheBlobAgain()
    {
        var task = TaskWithArtifacts(out _);
        var artifact = task["Origin"];
        var first = artifact.Value<Point>();

        _runs.Fs.File.Delete(_runs.Store.Blobs.PathOf(artifact.Sha));

        artifact.Value<Point>().ShouldBeSameAs(first);
        Should.Throw<FlowException>(() => task["Origin"].Value<Point>()).Message.ShouldContain(artifact.Pathspec, customMessage: "a fresh ArtifactInfo has to read the (now deleted) blob");
    }

    [Fact]
    public void Value_AsAnotherType_LoadsThatType()
    {
        var artifact = TaskWithArtifacts(out _)["Scores"];

        artifact.Value<List<int>>().ShouldBe([3, 1, 2]);
        artifact.Value<int[]>().ShouldBe([3, 1, 2]);
    }

    [Fact]
    public void Value_AsStream_IsOpenedAnewOnEveryCall()
    {
        var artifact = TaskWithArtifacts(out _)["Raw"];

        using var first = artifact.Value<Stream>();
        using var second = artifact.Value<Stream>();

        second.ShouldNotBeSameAs(first);
        using var copy = new MemoryStream();
        first.CopyTo(copy);
        copy.ToArray().ShouldBe(new byte[] { 1, 2, 3, 255 });
        second.ReadByte().ShouldBe(1);
    }

    [Fact]
    public void TaskData_CalledTwice_ReturnsTheSameObject()
    {
        var task = TaskWithArtifacts(out _);

        task.Data<List<int>>("Scores").ShouldBeSameAs(task.Data<List<int>>("Scores"));
        task.Data<Point>("Origin").ShouldBeSameAs(task.Data<Point>("Origin"));
    }

    // ---- typed view ----------------------------------------------------------------------------------------

    private TaskInfo ReportTask(string? status = AttemptDoneRecord.Succeeded, bool withSize = true, IReadOnlyList<FrameRecord>? frames = null)
    {
        var artifacts = new Dictionary<string, ArtifactRef>
        {
            ["Summary"] = _runs.Artifact("all good"),
            ["Scores"] = _runs.Artifact(new List<int> { 9, 8 }),
        };
        if (withSize)
        {
            artifacts["Size"] = _runs.Artifact(7);
        }
        var run = _runs.AddRun(ReportFlow.Name, 0, parameters: withSize ? new Dictionary<string, ArtifactRef> { ["Size"] = artifacts["Size"] } : null);
        _runs.AddAttempt(ReportFlow.Name, run, "End", "2", status: status, artifacts: artifacts, frames: frames);
        return _runs.Run(ReportFlow.Name, run)["End"]["2"];
    }

    [Fact]
    public void As_FlowClassWithADefinition_ReadsItsArtifactsAndParameters()
    {
        var flow = ReportTask().As<ReportFlow>();

        flow.Size.ShouldBe(7);
        flow.Summary.ShouldBe("all good");
        flow.Scores.ShouldBe([9, 8]);
        flow.Scores.ShouldBeSameAs(flow.Scores, "each artifact is loaded on first read");
    }

    [Fact]
    public void As_ParameterNotStored_IsItsDefault()
    {
        ReportTask(withSize: false).As<ReportFlow>().Size.ShouldBe(5);
    }

    [Fact]
    public void As_SettingAnArtifact_Throws()
    {
        var flow = ReportTask().As<ReportFlow>();

        Should.Throw<InvalidOperationException>(() => flow.Summary = "changed").Message.ShouldContain("'Summary'");
        flow.Summary.ShouldBe("all good");
    }

    [Fact]
    public void As_InsideAForeach_InputAndIndexAreTheTasks()
    {
        var flow = ReportTask(frames: [ForEach("Start", 1, 2, _runs.Artifact(new Point(5, 6)))]).As<ReportFlow>();

        flow.Index.ShouldBe(1);
        var input = flow.Input.ShouldBeOfType<JsonElement>();
        input.GetProperty("X").GetInt32().ShouldBe(5);
        flow.ForeachStack.ShouldHaveSingleItem().Count.ShouldBe(2);
    }

    [Fact]
    public void As_ClassWithoutAGeneratedDefinition_Throws()
    {
        var error = Should.Throw<FlowException>(() => ReportTask().As<PipelineFlow>());

        error.Message.ShouldBe($"{typeof(PipelineFlow).FullName} is not a flow class built with Flow.Sdk (it has no generated definition).");
    }

    [Fact]
    public void As_TaskOfAnotherFlow_ThrowsNamingBoth()
    {
        var run = _runs.AddRun(Flow, 0);
        _runs.AddAttempt(Flow, run, "Start", "1");

        var error = Should.Throw<FlowException>(() => TaskOf(run, "Start", "1").As<ReportFlow>());

        error.Message.ShouldBe($"Task {Flow}/{run}/Start/1 belongs to {Flow}, not to {ReportFlow.Name}.");
    }

    [Fact]
    public void As_UnfinishedTask_Throws()
    {
        var task = ReportTask(status: null);

        Should.Throw<FlowException>(() => task.As<ReportFlow>()).Message.ShouldBe($"Task {task.Pathspec} has not finished, so it has no artifacts yet.");
    }
}

/// <summary>
/// A flow class with the <c>FlowDefinition__</c> property the Flow.Build generator would emit, written by hand: this
/// test project does not run the generator (it references Flow.Sdk only), and <see cref="TaskInfo.As{TFlow}"/> only
/// needs the property.
/// </summary>
public sealed class ReportFlow : FlowSpec
{
    public const string Name = nameof(ReportFlow);

    public int Size { get; init; } = 5;

    public string Summary
    {
        get => GetArtifact<string>(nameof(Summary));
        set => SetArtifact(nameof(Summary), value);
    }

    public List<int> Scores
    {
        get => GetArtifact<List<int>>(nameof(Scores));
        set => SetArtifact(nameof(Scores), value);
    }

    internal static FlowDefinition FlowDefinition__ { get; } = new(
        TestGraphs.Json(new FlowGraph(Name, "Two steps.", [TestGraphs.Linear("Start", "End"), TestGraphs.End()], [TestGraphs.Parameter("Size", "size", "int", "5")])),
        static () => new ReportFlow(),
        static p => new ReportFlow { Size = p.Get<int>("Size") },
        new Dictionary<string, StepInvoker>(StringComparer.Ordinal)
        {
            ["Start"] = static (f, _) => { ((ReportFlow)f).Start(); return default; },
            ["End"] = static (f, _) => { ((ReportFlow)f).End(); return default; },
        },
        [new ParameterDefinition("Size", typeof(int), static f => ((ReportFlow)f).Size)]);

    public void Start() => Next(End);

    public void End()
    {
    }
}

/// <summary>
/// The client API through <see cref="FlowClient"/>'s static state: the default and chosen namespaces, the latest
/// runs they see, <see cref="FlowClient.Namespaces"/>, and steps and tasks found by pathspec in the datastore named by
/// <see cref="FlowClient.UseDatastore"/>. Each test restores the client's state.
/// </summary>
[Collection(FlowClientStateCollection.Name)]
public sealed class GlobalClientApiTests : IDisposable
{
    private const string Flow = "GlobalFlow";

    private readonly TempDirectory _temp = new("flow-client-api-");
    private readonly FlowClientStateScope _state = new();
    private readonly SyntheticRuns _runs;

    public GlobalClientApiTests()
    {
        _runs = SyntheticRuns.OnDisk(_temp.Combine(".flow"));
        _state.UseDatastore(_runs.Store.Root);
    }

    public void Dispose()
    {
        _state.Dispose();
        _temp.Dispose();
    }

    private static FlowInfo GetFlow() => FlowClient.GetFlow(Flow);

    // ---- namespaces ----------------------------------------------------------------------------------------

    [Fact]
    public void Namespace_NotSet_IsTheCurrentUsersFromFlowUser()
    {
        using var env = new EnvironmentScope().Set("FLOW_USER", "grace");
        _state.DefaultNamespace();

        FlowClient.Namespace.ShouldBe("user:grace");
        Namespace.Default.ShouldBe("user:grace");
    }

    [Fact]
    public void Runs_DefaultNamespace_HidesAnotherUsersRuns()
    {
        using var env = new EnvironmentScope().Set("FLOW_USER", "grace");
        _state.DefaultNamespace();
        var mine = _runs.AddRun(Flow, 0, user: "grace");
        _runs.AddRun(Flow, 10, user: "linus");

        GetFlow().Runs.Select(r => r.Id).ShouldBe([mine]);
        GetFlow().LatestRun.ShouldNotBeNull().Id.ShouldBe(mine);
        GetFlow().GetRun("latest").Id.ShouldBe(mine);
    }

    [Fact]
    public void Runs_GlobalNamespace_ShowsEveryRun()
    {
        var a = _runs.AddRun(Flow, 0, user: "grace");
        var b = _runs.AddRun(Flow, 10, user: "linus");
        _state.Namespace(Namespace.Global);

        GetFlow().Runs.Select(r => r.Id).ShouldBe([b, a]);
        GetFlow().LatestRun.ShouldNotBeNull().Id.ShouldBe(b);
    }

    [Fact]
    public void Runs_UserTagAsNamespace_ShowsTheTaggedRunsOfEveryUser()
    {
        var a = _runs.AddRun(Flow, 0, user: "grace", tags: ["release"]);
        _runs.AddRun(Flow, 10, user: "grace");
        var c = _runs.AddRun(Flow, 20, user: "linus", tags: ["release"]);
        _runs.AddRun(Flow, 30, user: "linus");
        _state.Namespace("release");

        GetFlow().Runs.Select(r => r.Id).ShouldBe([c, a]);
        GetFlow().LatestRun.ShouldNotBeNull().Id.ShouldBe(c);
    }

    [Fact]
    public void Runs_UserTagAsNamespace_FollowsTagChanges()
    {
        var id = _runs.AddRun(Flow, 0, user: "grace");
        _state.Namespace("candidate");
        GetFlow().Runs.ShouldBeEmpty();

        FlowClient.GetRun($"{Flow}/{id}").AddTags("candidate");
        GetFlow().LatestRun.ShouldNotBeNull().Id.ShouldBe(id);

        FlowClient.GetRun($"{Flow}/{id}").ReplaceTags(remove: ["candidate"], add: ["production"]);
        GetFlow().LatestRun.ShouldBeNull();
    }

    [Fact]
    public void LatestSuccessfulRun_SkipsFailedRunningAndDiedRuns()
    {
        var succeeded = _runs.AddRun(Flow, 0, status: "succeeded");
        var failed = _runs.AddRun(Flow, 10, status: "failed");
        var running = _runs.AddRun(Flow, 20, status: null);
        File.WriteAllText(_runs.Store.RunHeartbeatPath(Flow, running), "1@another-machine");
        var died = _runs.AddRun(Flow, 30, status: null);
        _state.Namespace(Namespace.User(SyntheticRuns.User));

        GetFlow().Runs.Select(r => $"{r.Id}:{r.Status}").ShouldBe([$"{died}:failed", $"{running}:running", $"{failed}:failed", $"{succeeded}:succeeded"]);
        GetFlow().LatestRun.ShouldNotBeNull().Id.ShouldBe(died);
        GetFlow().LatestSuccessfulRun.ShouldNotBeNull().Id.ShouldBe(succeeded);
    }

    [Fact]
    public void LatestSuccessfulRun_FollowsTheNamespace()
    {
        var grace = _runs.AddRun(Flow, 0, user: "grace", status: "succeeded");
        _runs.AddRun(Flow, 10, user: "grace", status: "failed");
        var linus = _runs.AddRun(Flow, 20, user: "linus", status: "succeeded");

        _state.Namespace(Namespace.User("grace"));
        GetFlow().LatestSuccessfulRun.ShouldNotBeNull().Id.ShouldBe(grace);
        _state.Namespace(Namespace.Global);
        GetFlow().LatestSuccessfulRun.ShouldNotBeNull().Id.ShouldBe(linus);
        _state.Namespace(Namespace.User("nobody"));
        GetFlow().LatestSuccessfulRun.ShouldBeNull();
    }

    [Fact]
    public void GetRun_LatestInAnEmptyNamespace_ThrowsNamingTheNamespace()
    {
        _runs.AddRun(Flow, 0, user: "grace");
        _state.Namespace(Namespace.User("nobody"));

        Should.Throw<FlowException>(() => GetFlow().GetRun("latest")).Message.ShouldBe($"Flow {Flow} has no run in namespace user:nobody.");
    }

    [Fact]
    public void GetRun_ById_IsFoundOutsideTheNamespace()
    {
        var linus = _runs.AddRun(Flow, 0, user: "linus");
        _state.Namespace(Namespace.User("grace"));

        FlowClient.GetRun($"{Flow}/{linus}").User.ShouldBe("linus");
    }

    [Fact]
    public void Namespaces_ListsEveryUserAndEveryUserTagOnceSorted()
    {
        _runs.AddRun(Flow, 0, user: "grace", tags: ["exp-1"]);
        _runs.AddRun(Flow, 10, user: "linus");
        _runs.AddRun(Flow, 20, user: "grace", tags: ["zeta", "exp-1"]);
        _runs.AddRun("OtherFlow", 0, user: "ada", tags: ["Exp-1"]);

        FlowClient.Namespaces().ShouldBe(["Exp-1", "exp-1", "user:ada", "user:grace", "user:linus", "zeta"]);
    }

    [Fact]
    public void Namespaces_ExcludesOtherSystemTagsAndRemovedTagsAndRuns()
    {
        var tagged = _runs.AddRun(Flow, 0, user: "grace", tags: ["old"]);
        var removed = _runs.AddRun(Flow, 10, user: "linus", tags: ["gone"]);
        FlowClient.GetRun($"{Flow}/{tagged}").RemoveTags("old");
        Directory.Delete(_runs.Store.RunDir(Flow, removed), recursive: true);

        FlowClient.Namespaces().ShouldBe(["user:grace"]);
    }

    [Fact]
    public void Namespaces_EmptyDatastore_IsEmpty()
    {
        FlowClient.Namespaces().ShouldBeEmpty();
    }

    // ---- pathspecs -----------------------------------------------------------------------------------------

    private string RunWithATask(int second = 0, string user = SyntheticRuns.User)
    {
        var run = _runs.AddRun(Flow, second, user: user);
        _runs.AddAttempt(Flow, run, "Start", "1", artifacts: new Dictionary<string, ArtifactRef> { ["X"] = _runs.Artifact(second) });
        return run;
    }

    [Fact]
    public void GetStep_Pathspec_IsThatStep()
    {
        var run = RunWithATask();

        var step = FlowClient.GetStep($"{Flow}/{run}/Start");

        step.Pathspec.ShouldBe($"{Flow}/{run}/Start");
        step.Run.Id.ShouldBe(run);
        step.Task.Id.ShouldBe("1");
        FlowClient.GetStep($"{Flow}/{run}/start").Name.ShouldBe("Start", "step names match without regard to case");
    }

    [Fact]
    public void GetTask_Pathspec_IsThatTask()
    {
        var run = RunWithATask(second: 3);

        var task = FlowClient.GetTask($"{Flow}/{run}/Start/1");

        task.Pathspec.ShouldBe($"{Flow}/{run}/Start/1");
        task.Successful.ShouldBeTrue();
        task.Data<int>("X").ShouldBe(3);
    }

    [Fact]
    public void GetTask_LatestRun_IsTheNewestRunInTheNamespace()
    {
        var mine = RunWithATask(second: 0, user: "grace");
        RunWithATask(second: 10, user: "linus");
        _state.Namespace(Namespace.User("grace"));

        FlowClient.GetTask($"{Flow}/latest/Start/1").Step.Run.Id.ShouldBe(mine);
        FlowClient.GetStep($"{Flow}/latest/Start").Run.Id.ShouldBe(mine);
    }

    [Theory]
    [InlineData("")]
    [InlineData("GlobalFlow")]
    [InlineData("GlobalFlow/{run}")]
    [InlineData("GlobalFlow/{run}/Start/1")]
    [InlineData("GlobalFlow//Start")]
    [InlineData("/{run}/Start")]
    [InlineData("GlobalFlow/{run}/")]
    public void GetStep_MalformedPathspec_ThrowsNamingTheExpectedForm(string pathspec)
    {
        var spec = pathspec.Replace("{run}", RunWithATask(), StringComparison.Ordinal);

        Should.Throw<FlowException>(() => FlowClient.GetStep(spec)).Message.ShouldBe($"'{spec}' is not a pathspec of the form Flow/runId/Step.");
    }

    [Theory]
    [InlineData("GlobalFlow/{run}/Start")]
    [InlineData("GlobalFlow/{run}/Start/1/X")]
    [InlineData("GlobalFlow/{run}//1")]
    [InlineData("GlobalFlow/{run}/Start/")]
    [InlineData("GlobalFlow/{run}/Start\\1")]
    public void GetTask_MalformedPathspec_ThrowsNamingTheExpectedForm(string pathspec)
    {
        var spec = pathspec.Replace("{run}", RunWithATask(), StringComparison.Ordinal);

        Should.Throw<FlowException>(() => FlowClient.GetTask(spec)).Message.ShouldBe($"'{spec}' is not a pathspec of the form Flow/runId/Step/taskId.");
    }

    [Theory]
    [InlineData("GlobalFlow")]
    [InlineData("GlobalFlow/{run}/Start")]
    public void GetRun_MalformedPathspec_ThrowsNamingTheExpectedForm(string pathspec)
    {
        var spec = pathspec.Replace("{run}", RunWithATask(), StringComparison.Ordinal);

        Should.Throw<FlowException>(() => FlowClient.GetRun(spec)).Message.ShouldBe($"'{spec}' is not a run pathspec; expected Flow/runId.");
    }

    [Fact]
    public void GetStepAndGetTask_Null_ThrowArgumentNull()
    {
        Should.Throw<ArgumentNullException>(() => FlowClient.GetStep(null!));
        Should.Throw<ArgumentNullException>(() => FlowClient.GetTask(null!));
        Should.Throw<ArgumentNullException>(() => FlowClient.GetRun(null!));
    }

    [Fact]
    public void GetTask_UnknownParts_ThrowNamingThePartMissing()
    {
        var run = RunWithATask();

        Should.Throw<FlowException>(() => FlowClient.GetTask($"Nope/{run}/Start/1")).Message.ShouldContain("No flow named 'Nope'");
        Should.Throw<FlowException>(() => FlowClient.GetTask($"{Flow}/999/Start/1")).Message.ShouldContain("has no run '999'");
        Should.Throw<FlowException>(() => FlowClient.GetTask($"{Flow}/{run}/Train/1")).Message.ShouldContain("has no step 'Train'; its steps are Start");
        Should.Throw<FlowException>(() => FlowClient.GetTask($"{Flow}/{run}/Start/2")).Message.ShouldBe($"Step {Flow}/{run}/Start has no task '2'.");
        Should.Throw<FlowException>(() => FlowClient.GetStep($"{Flow}/{run}/Nope")).Message.ShouldContain("has no step 'Nope'");
    }

    [Fact]
    public void Flows_ListsTheFlowsWithRuns()
    {
        _runs.AddRun(Flow, 0);
        _runs.AddRun("AnotherFlow", 0);

        FlowClient.Flows().Select(f => f.Name).ShouldBe(["AnotherFlow", Flow]);
        FlowClient.GetFlow(Flow).ToString().ShouldBe($"Flow('{Flow}')");
    }
}
