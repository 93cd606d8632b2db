using System.IO.Abstractions;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;
using Flow.Sdk.Runtime;
using Flow.Sdk.Tests.Support;
using Flow.Tests;

namespace Flow.Sdk.Tests.Runtime;

/// <summary>
/// Task-level behaviour of every graph shape, run in-process through <see cref="TaskRunner"/> on a real datastore:
/// frames and indices, foreach items, join inputs and their order, what flows through a join, MergeArtifacts, and
/// the run-time transition check. The orchestrator's scheduling is covered end to end (ShapeMatrixTests).
/// </summary>
public sealed class GraphRuntimeTests : IDisposable
{
    private readonly ShapeScenario _s = new();

    public void Dispose() => _s.Dispose();

    [Fact]
    public async Task Join_ReceivesInputsInSplitOrder_ReadableByIndexAndByStepName()
    {
        string? seen = null;
        _s.Hooks.Join = (f, inputs) => seen = $"{inputs.Count}:{inputs[0].Label}:{inputs[1].Label}:{inputs[nameof(ShapeFlow.A)].Label}:{inputs["b"].Label}";
        var run = _s.StartRun();

        await _s.RunSplitAndJoinAsync(run);

        seen.ShouldBe("2:from A:from B:from A:from B");
    }

    [Fact]
    public async Task Join_InheritsOnlyParameters_ReadingAnUnmergedArtifactNamesMergeArtifacts()
    {
        Exception? error = null;
        _s.Hooks.Join = (f, _) => error = Should.Throw<InvalidOperationException>(() => f.Label);
        var run = _s.StartRun();

        await _s.RunSplitAndJoinAsync(run);

        error!.Message.ShouldContain("'Label'");
        error.Message.ShouldContain("MergeArtifacts");
        _s.Done(run, "Join", "4").Artifacts.Keys.ShouldBe(["Count"], ignoreOrder: true);
    }

    [Fact]
    public async Task Join_InputsAreReadOnly()
    {
        Exception? error = null;
        _s.Hooks.Join = (_, inputs) => error = Should.Throw<InvalidOperationException>(() => inputs[0].Label = "changed");
        var run = _s.StartRun();

        await _s.RunSplitAndJoinAsync(run);

        error!.Message.ShouldContain("read-only");
    }

    [Fact]
    public async Task MergeArtifacts_PassesEqualValuesByReference_KeepsWhatTheJoinSet_AndHonoursExclude()
    {
        _s.Hooks.A = f => { f.Shared = "same"; f.Label = "from A"; };
        _s.Hooks.B = f => { f.Shared = "same"; f.Label = "from B"; f.Extra = 7; };
        _s.Hooks.Join = (f, inputs) => { f.Label = "joined"; f.Merge(inputs, exclude: [nameof(ShapeFlow.Extra)]); };
        var run = _s.StartRun();

        await _s.RunSplitAndJoinAsync(run);

        var join = _s.Done(run, "Join", "4");
        join.IsSuccess.ShouldBeTrue(join.Error?.Message);
        join.Artifacts["Shared"].Sha.ShouldBe(_s.Done(run, "A", "2").Artifacts["Shared"].Sha);
        _s.Value<string>(join.Artifacts["Label"]).ShouldBe("joined");
        join.Artifacts.ContainsKey("Extra").ShouldBeFalse();
    }

    [Fact]
    public async Task MergeArtifacts_TakesAnArtifactOnlySomeInputsHave()
    {
        _s.Hooks.B = f => { f.Label = "from B"; f.Extra = 7; };
        _s.Hooks.Join = (f, inputs) => f.Merge(inputs, include: [nameof(ShapeFlow.Extra)]);
        var run = _s.StartRun();

        await _s.RunSplitAndJoinAsync(run);

        var join = _s.Done(run, "Join", "4");
        _s.Value<int>(join.Artifacts["Extra"]).ShouldBe(7);
        join.Artifacts.ContainsKey("Label").ShouldBeFalse();
    }

    [Fact]
    public async Task MergeArtifacts_Conflict_FailsTheJoinNamingTheArtifact_AndMergesNothing()
    {
        _s.Hooks.A = f => { f.Label = "from A"; f.Shared = "same"; };
        _s.Hooks.B = f => { f.Label = "from B"; f.Shared = "same"; };
        _s.Hooks.Join = (f, inputs) => f.Merge(inputs);
        var run = _s.StartRun();

        await _s.RunSplitAndJoinAsync(run);

        var join = _s.Done(run, "Join", "4");
        join.IsSuccess.ShouldBeFalse();
        join.Error!.Message.ShouldContain("Label");
        join.Error.Message.ShouldNotContain("Shared");
        join.Artifacts.ContainsKey("Shared").ShouldBeFalse();
    }

    [Theory]
    [InlineData("include-missing", "no input")]
    [InlineData("both", "not both")]
    public async Task MergeArtifacts_BadArguments_FailTheJoinWithAClearMessage(string mode, string message)
    {
        _s.Hooks.Join = (f, inputs) =>
        {
            if (mode == "both")
            {
                f.Merge(inputs, include: ["Label"], exclude: ["Extra"]);
            }
            else
            {
                f.Merge(inputs, include: ["Nope"]);
            }
        };
        var run = _s.StartRun();

        await _s.RunSplitAndJoinAsync(run);

        _s.Done(run, "Join", "4").Error!.Message.ShouldContain(message);
    }

    [Fact]
    public async Task MergeArtifacts_OutsideAJoin_Fails()
    {
        _s.Hooks.A = f => f.Merge(new Inputs<ShapeFlow>([]));
        var run = _s.StartRun();
        await _s.RunTaskAsync(run, "Start", "1");

        var a = await _s.RunTaskAsync(run, "A", "2", 0, $"{run}/Start/1");

        a.Error!.Message.ShouldContain("not a join");
    }

    [Fact]
    public async Task Foreach_StoresEachItem_AndTheChildReadsItsItemIndexAndStack()
    {
        string? seen = null;
        _s.Hooks.Each = (f, item) => seen = $"{item}:{f.Input}:{f.Index}:{f.ForeachStack.Count}:{f.ForeachStack[0].Step}:{f.ForeachStack[0].Count}";
        var run = _s.StartRun();
        var fan = await _s.RunFanAsync(run, [10, 20, 30]);

        var child = await _s.RunTaskAsync(run, "Each", "6", 1, $"{run}/Fan/5");

        fan.ForEach!.Count.ShouldBe(3);
        child.IsSuccess.ShouldBeTrue(child.Error?.Message);
        seen.ShouldBe("20:20:1:1:Fan:3");
        child.Position.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            f => f.Kind.ShouldBe("foreach"),
            f => f.Index.ShouldBe(1),
            f => f.Task.ShouldBe("5"));
    }

    [Fact]
    public async Task Foreach_EqualItemsAreStoredOnce()
    {
        var run = _s.StartRun();
        var fan = await _s.RunFanAsync(run, [4, 4, 4]);

        var items = Json.Parse<ForEachItems>(_s.Store.Blobs.Get(fan.ForEach!.Items));

        items.Items.Select(i => i.Sha).Distinct().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Foreach_WiderThanMaxNumSplits_FailsBeforeStoringASingleItem()
    {
        var run = _s.StartRun(new RunOptions(MaxWorkers: 16, MaxNumSplits: 10, MaxLogMegabytes: 10));
        _s.Hooks.Join = (f, _) => f.Items = [.. Enumerable.Range(1000, 1000)];
        await _s.RunSplitAndJoinAsync(run);
        int Blobs() => Directory.GetFiles(Path.Combine(_s.Root, "blobs"), "*", SearchOption.AllDirectories).Length;
        var before = Blobs();

        var fan = await _s.RunTaskAsync(run, "Fan", "5", null, $"{run}/Join/4");

        fan.IsSuccess.ShouldBeFalse();
        fan.Error!.Type.ShouldBe(TaskRunner.LimitError);
        fan.Error.Message.ShouldContain("fans out over 1000 items of Items, more than --max-num-splits 10");
        fan.ForEach.ShouldBeNull();
        Blobs().ShouldBe(before, "no item (and no item list) was stored");
    }

    [Fact]
    public async Task Foreach_OverAnEmptyCollection_FailsTheForeachTask()
    {
        var run = _s.StartRun();

        var fan = await _s.RunFanAsync(run, []);

        fan.IsSuccess.ShouldBeFalse();
        fan.Error!.Message.ShouldContain("empty");
        fan.ForEach.ShouldBeNull();
    }

    [Fact]
    public async Task ForeachChild_WithoutASplitIndex_FailsNamingTheOption()
    {
        var run = _s.StartRun();
        await _s.RunFanAsync(run, [1, 2]);

        var child = await _s.RunTaskAsync(run, "Each", "6", null, $"{run}/Fan/5");

        child.IsSuccess.ShouldBeFalse();
        child.Error!.Message.ShouldContain("--split-index");
    }

    [Fact]
    public async Task ForeachJoin_GetsChildrenInIndexOrder_AndDropsTheForeachFrame()
    {
        string? order = null;
        _s.Hooks.Each = (f, item) => f.Label = $"#{item}";
        _s.Hooks.Gather = (f, inputs) => order = string.Join(",", inputs.Select(i => $"{i.Index}{i.Label}"));
        var run = _s.StartRun();
        await _s.RunFanAsync(run, [7, 8, 9]);
        for (var i = 0; i < 3; i++)
        {
            (await _s.RunTaskAsync(run, "Each", $"{6 + i}", i, $"{run}/Fan/5")).IsSuccess.ShouldBeTrue();
        }

        var gather = await _s.RunTaskAsync(run, "Gather", "9", null, $"{run}/Each/6", $"{run}/Each/7", $"{run}/Each/8");

        gather.IsSuccess.ShouldBeTrue(gather.Error?.Message);
        order.ShouldBe("0#7,1#8,2#9");
        gather.Position.ShouldBeEmpty();
    }

    [Fact]
    public async Task ForeachJoin_ReadingAForeachInputByStepName_SaysToUseTheIndex()
    {
        Exception? error = null;
        _s.Hooks.Gather = (_, inputs) => error = Should.Throw<InvalidOperationException>(() => inputs[nameof(ShapeFlow.Each)]);
        var run = _s.StartRun();
        await _s.RunFanAsync(run, [1, 2]);
        await _s.RunTaskAsync(run, "Each", "6", 0, $"{run}/Fan/5");
        await _s.RunTaskAsync(run, "Each", "7", 1, $"{run}/Fan/5");

        await _s.RunTaskAsync(run, "Gather", "8", null, $"{run}/Each/6", $"{run}/Each/7");

        error!.Message.ShouldContain("by index");
    }

    [Fact]
    public async Task Join_MissingABranch_FailsSayingHowManyItNeeds()
    {
        var run = _s.StartRun();
        await _s.RunFanAsync(run, [1, 2]);
        await _s.RunTaskAsync(run, "Each", "6", 0, $"{run}/Fan/5");

        var gather = await _s.RunTaskAsync(run, "Gather", "8", null, $"{run}/Each/6");

        gather.IsSuccess.ShouldBeFalse();
        gather.Error!.Message.ShouldContain("needs all 2 branches");
    }

    [Fact]
    public async Task Loop_EachPassIsItsOwnTask_WithAnIterationCounter()
    {
        var passes = new List<int>();
        var left = 3;
        _s.Hooks.Loop = f =>
        {
            passes.Add(f.Iteration);
            return --left > 0;
        };
        var run = _s.StartRun();
        await _s.RunTaskAsync(run, "Start", "1");
        await _s.RunTaskAsync(run, "A", "2", 0, $"{run}/Start/1");
        var parent = $"{run}/A/2";
        var ids = 20;
        AttemptDoneRecord done;
        do
        {
            var id = (ids++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            done = await _s.RunTaskAsync(run, "Loop", id, null, parent);
            parent = $"{run}/Loop/{id}";
        }
        while (done.Next.SequenceEqual(["Loop"]));

        passes.ShouldBe([0, 1, 2]);
        done.Iteration.ShouldBe(2);
        done.Next.ShouldBe(["End"]);
    }

    [Fact]
    public async Task Switch_TakingATargetTheGraphDoesNotAllow_FailsTheTask()
    {
        _s.Hooks.LoopGoesTo = "A";
        var run = _s.StartRun();
        await _s.RunTaskAsync(run, "Start", "1");
        await _s.RunTaskAsync(run, "A", "2", 0, $"{run}/Start/1");

        var loop = await _s.RunTaskAsync(run, "Loop", "3", null, $"{run}/A/2");

        loop.IsSuccess.ShouldBeFalse();
        loop.Error!.Type.ShouldBe("TransitionError");
        loop.Error.Message.ShouldContain("one of Next(Loop), Next(End)");
    }

    /// <summary>Hooks a test sets before running tasks; read by each task's fresh flow object.</summary>
    public sealed class ShapeHooks
    {
        public Action<ShapeFlow>? A { get; set; } = f => f.Label = "from A";

        public Action<ShapeFlow>? B { get; set; } = f => f.Label = "from B";

        public Action<ShapeFlow, Inputs<ShapeFlow>>? Join { get; set; }

        public Action<ShapeFlow, int>? Each { get; set; }

        public Action<ShapeFlow, Inputs<ShapeFlow>>? Gather { get; set; }

        public Func<ShapeFlow, bool>? Loop { get; set; }

        public string? LoopGoesTo { get; set; }
    }

    /// <summary>
    /// Start (split A, B) → Join (join) → Fan (foreach Items) → Each(int) → Gather (join) → Loop (switch: Loop or End) → End,
    /// plus a conditional Loop reachable from Start for the loop tests; artifacts written the way the generator writes them.
    /// </summary>
    public sealed class ShapeFlow : FlowSpec
    {
        public int Count { get; init; } = 1;

        public ShapeHooks Hooks { get; init; } = new();

        public string Label { get => GetArtifact<string>(nameof(Label)); set => SetArtifact(nameof(Label), value); }

        public string Shared { get => GetArtifact<string>(nameof(Shared)); set => SetArtifact(nameof(Shared), value); }

        public int Extra { get => GetArtifact<int>(nameof(Extra)); set => SetArtifact(nameof(Extra), value); }

        public int[] Items { get => GetArtifact<int[]>(nameof(Items)); set => SetArtifact(nameof(Items), value); }

        public void Merge(Inputs<ShapeFlow> inputs, IEnumerable<string>? include = null, IEnumerable<string>? exclude = null) =>
            MergeArtifacts(inputs, include, exclude);

        public void Start() => Next(A, B);

        public void A()
        {
            Hooks.A?.Invoke(this);
            Next(Join);
        }

        public void B()
        {
            Hooks.B?.Invoke(this);
            Next(Join);
        }

        public void Join(Inputs<ShapeFlow> inputs)
        {
            Hooks.Join?.Invoke(this, inputs);
            Next(Fan);
        }

        public void Fan() => Next(Each, forEach: nameof(Items));

        public void Each(int item)
        {
            Hooks.Each?.Invoke(this, item);
            Next(Gather);
        }

        public void Gather(Inputs<ShapeFlow> inputs)
        {
            Hooks.Gather?.Invoke(this, inputs);
            Next(Loop);
        }

        public void Loop()
        {
            if (Hooks.LoopGoesTo == "A")
            {
                Next(A);
            }
            else if (Hooks.Loop?.Invoke(this) ?? false)
            {
                Next(Loop);
            }
            else
            {
                Next(End);
            }
        }

        public void End()
        {
        }
    }

    private sealed class ShapeScenario : IDisposable
    {
        private const string FlowName = nameof(ShapeFlow);
        private readonly TempDirectory _temp = new("flow-shape-tests-");
        private readonly TaskRunner _runner;
        private readonly FlowDefinition _definition;

        public ShapeScenario()
        {
            Root = _temp.Combine(".flow");
            Store = FlowDatastore.Open(new FileSystem(), Root, create: true);
            var graph = new FlowGraph(
                FlowName,
                null,
                [
                    new GraphStep("Start", "split", ["A", "B"], null, null, null, 1, MatchingJoin: "Join"),
                    TestGraphs.Linear("A", "Join"),
                    TestGraphs.Linear("B", "Join"),
                    new GraphStep("Join", "linear", ["Fan"], null, null, null, 1, IsJoin: true),
                    new GraphStep("Fan", "foreach", ["Each"], "Items", null, null, 1, MatchingJoin: "Gather"),
                    TestGraphs.Linear("Each", "Gather"),
                    new GraphStep("Gather", "linear", ["Loop"], null, null, null, 1, IsJoin: true),
                    new GraphStep("Loop", "switch", ["Loop", "End"], null, null, null, 1),
                    TestGraphs.End(),
                ],
                [TestGraphs.Parameter("Count", "count", "int", "1")]);
            static ValueTask Run(Action action)
            {
                action();
                return ValueTask.CompletedTask;
            }
            _definition = new FlowDefinition(
                TestGraphs.Json(graph),
                () => new ShapeFlow { Hooks = Hooks },
                values => new ShapeFlow { Count = values.Get<int>("Count"), Hooks = Hooks },
                new Dictionary<string, StepInvoker>(StringComparer.Ordinal)
                {
                    ["Start"] = (f, _) => Run(((ShapeFlow)f).Start),
                    ["A"] = (f, _) => Run(((ShapeFlow)f).A),
                    ["B"] = (f, _) => Run(((ShapeFlow)f).B),
                    ["Join"] = (f, a) => Run(() => ((ShapeFlow)f).Join(a.Inputs<ShapeFlow>())),
                    ["Fan"] = (f, _) => Run(((ShapeFlow)f).Fan),
                    ["Each"] = (f, a) => Run(() => ((ShapeFlow)f).Each(a.Item<int>())),
                    ["Gather"] = (f, a) => Run(() => ((ShapeFlow)f).Gather(a.Inputs<ShapeFlow>())),
                    ["Loop"] = (f, _) => Run(((ShapeFlow)f).Loop),
                    ["End"] = (f, _) => Run(((ShapeFlow)f).End),
                },
                [new ParameterDefinition("Count", typeof(int), f => ((ShapeFlow)f).Count)],
                new Dictionary<string, ForEachDefinition>(StringComparer.Ordinal)
                {
                    ["Fan"] = new("Items", typeof(int), f => ((ShapeFlow)f).Items),
                });
            _runner = new TaskRunner(Store.FileSystem, new Dictionary<string, FlowDefinition>(StringComparer.Ordinal) { [FlowName] = _definition });
        }

        public ShapeHooks Hooks { get; } = new();

        public string Root { get; }

        public FlowDatastore Store { get; }

        public string StartRun(RunOptions? options = null)
        {
            var runId = Store.CreateRun(FlowName, DateTimeOffset.UtcNow);
            var parameters = ParameterBinder.Store(Store, _definition, new Dictionary<string, object?>(StringComparer.Ordinal) { ["Count"] = 1 });
            Store.WriteRun(new RunRecord(FlowName, runId, DateTimeOffset.UtcNow, "tester", "no-snapshot", SdkInfo.Version, _temp.Path, parameters, ["runtime:test"], Options: options));
            return runId;
        }

        public Task<AttemptDoneRecord> RunTaskAsync(string runId, string step, string taskId, int? splitIndex = null, params string[] inputs) =>
            _runner.RunAsync(new TaskRequest(Root, FlowName, runId, step, taskId, 0, inputs, splitIndex));

        /// <summary>Start (1), A (2), B (3), Join (4).</summary>
        public async Task RunSplitAndJoinAsync(string runId)
        {
            (await RunTaskAsync(runId, "Start", "1")).IsSuccess.ShouldBeTrue();
            (await RunTaskAsync(runId, "A", "2", 0, $"{runId}/Start/1")).IsSuccess.ShouldBeTrue();
            (await RunTaskAsync(runId, "B", "3", 1, $"{runId}/Start/1")).IsSuccess.ShouldBeTrue();
            await RunTaskAsync(runId, "Join", "4", null, $"{runId}/A/2", $"{runId}/B/3");
        }

        /// <summary>Runs Start, A, B and Join, then Fan (task 5) over the given items.</summary>
        public async Task<AttemptDoneRecord> RunFanAsync(string runId, int[] items)
        {
            var join = Hooks.Join;
            Hooks.Join = (f, inputs) =>
            {
                join?.Invoke(f, inputs);
                f.Items = items;
            };
            await RunSplitAndJoinAsync(runId);
            Hooks.Join = join;
            return await RunTaskAsync(runId, "Fan", "5", null, $"{runId}/Join/4");
        }

        public AttemptDoneRecord Done(string runId, string step, string taskId) =>
            Store.ReadAttemptDone(Store.AttemptDir(FlowName, runId, step, taskId, 0))
            ?? throw new InvalidOperationException($"{runId}/{step}/{taskId} has no done.json");

        public T Value<T>(ArtifactRef reference) => (T)ArtifactCodec.Deserialize(Store.Blobs.Get(reference.Sha), reference.Encoding, typeof(T))!;

        public void Dispose() => _temp.Dispose();
    }
}
