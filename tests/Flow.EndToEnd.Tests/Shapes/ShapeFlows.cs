// The graph-shape matrix: one flow per shape, built into a project made from the template and run through the
// real tool by ShapeMatrixTests. Every step leaves artifacts that say which path it took, so the tests can check
// propagation, foreach indices and values, join input order and task counts through `dump --json`.
using Flow.Sdk;

namespace Shapes;

/// <summary>Start, one step, End.</summary>
public partial class LinearFlow : FlowSpec
{
    public partial string Trail { get; set; }

    [Step] public void Start() { Trail = "S"; Next(A); }

    [Step] public void A() { Trail += ">A"; Next(End); }

    [Step] public void End() => Trail += ">E";
}

/// <summary>One split of two branches and their join.</summary>
public partial class SplitFlow : FlowSpec
{
    public partial string Trail { get; set; }

    public partial int Score { get; set; }

    public partial string Seen { get; set; }

    [Step] public void Start() { Trail = "S"; Next(A, B); }

    [Step] public void A() { Trail += ">A"; Score = 1; Next(Join); }

    [Step] public void B() { Trail += ">B"; Score = 2; Next(Join); }

    [Step]
    public void Join(Inputs<SplitFlow> inputs)
    {
        Seen = string.Join(",", inputs.Select(i => i.Trail));
        Score = (inputs[nameof(A)].Score * 10) + inputs[nameof(B)].Score;
        Next(End);
    }

    [Step] public void End() { }
}

/// <summary>Splits nested three levels deep, each closed by its own join.</summary>
public partial class NestedSplitFlow : FlowSpec
{
    public partial string Trail { get; set; }

    [Step] public void Start() { Trail = "S"; Next(L1a, L1b); }

    [Step] public void L1a() { Trail += ">L1a"; Next(L2a, L2b); }

    [Step] public void L1b() { Trail += ">L1b"; Next(J1); }

    [Step] public void L2a() { Trail += ">L2a"; Next(L3a, L3b); }

    [Step] public void L2b() { Trail += ">L2b"; Next(J2); }

    [Step] public void L3a() { Trail += ">L3a"; Next(J3); }

    [Step] public void L3b() { Trail += ">L3b"; Next(J3); }

    [Step] public void J3(Inputs<NestedSplitFlow> inputs) { Trail = "(" + string.Join("|", inputs.Select(i => i.Trail)) + ")"; Next(J2); }

    [Step] public void J2(Inputs<NestedSplitFlow> inputs) { Trail = "(" + string.Join("|", inputs.Select(i => i.Trail)) + ")"; Next(J1); }

    [Step] public void J1(Inputs<NestedSplitFlow> inputs) { Trail = "(" + string.Join("|", inputs.Select(i => i.Trail)) + ")"; Next(End); }

    [Step] public void End() { }
}

/// <summary>A foreach of three items; the child reads its item as a parameter, through Input and Index.</summary>
public partial class ForeachFlow : FlowSpec
{
    public partial string[] Items { get; set; }

    public partial string Value { get; set; }

    public partial string All { get; set; }

    [Step] public void Start() { Items = ["a", "b", "c"]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(string item) { Value = $"{Index}:{item}:{Input}:{ForeachStack.Count}"; Next(Join); }

    [Step] public void Join(Inputs<ForeachFlow> inputs) { All = string.Join(",", inputs.Select(i => i.Value)); Next(End); }

    [Step] public void End() { }
}

/// <summary>A foreach whose children run two steps; the second still knows its index and item.</summary>
public partial class ForeachTwoStepsFlow : FlowSpec
{
    public partial List<int> Numbers { get; set; }

    public partial int Doubled { get; set; }

    public partial string Where { get; set; }

    public partial int Total { get; set; }

    [Step] public void Start() { Numbers = [5, 6, 7]; Next(First, forEach: nameof(Numbers)); }

    [Step] public void First(int number) { Doubled = number * 2; Next(Second); }

    [Step] public void Second() { Where = $"{Index}:{Input}:{Doubled}"; Doubled += 1; Next(Join); }

    [Step] public void Join(Inputs<ForeachTwoStepsFlow> inputs) { Total = inputs.Sum(i => i.Doubled); Where = string.Join(",", inputs.Select(i => i.Where)); Next(End); }

    [Step] public void End() { }
}

/// <summary>Three nested foreach: 3 x 2 x 6 = 36 inner tasks.</summary>
public partial class NestedForeachFlow : FlowSpec
{
    public partial int[] Xs { get; set; }

    public partial int[] Ys { get; set; }

    public partial int[] Zs { get; set; }

    public partial string Cell { get; set; }

    public partial int Sum { get; set; }

    [Step] public void Start() { Xs = [100, 200, 300]; Next(X, forEach: nameof(Xs)); }

    [Step] public void X(int x) { Ys = [10, 20]; Next(Y, forEach: nameof(Ys)); }

    [Step] public void Y(int y) { Zs = [0, 1, 2, 3, 4, 5]; Next(Z, forEach: nameof(Zs)); }

    [Step]
    public void Z(int z)
    {
        Cell = string.Join(".", ForeachStack.Select(f => $"{f.Step}{f.Index}/{f.Count}={f.Value}"));
        Sum = (int)ForeachStack[0].Value! + (int)ForeachStack[1].Value! + z;
        Next(JoinZ);
    }

    [Step] public void JoinZ(Inputs<NestedForeachFlow> inputs) { Sum = inputs.Sum(i => i.Sum); Next(JoinY); }

    [Step] public void JoinY(Inputs<NestedForeachFlow> inputs) { Sum = inputs.Sum(i => i.Sum); Next(JoinX); }

    [Step] public void JoinX(Inputs<NestedForeachFlow> inputs) { Sum = inputs.Sum(i => i.Sum); Next(End); }

    [Step] public void End() { }
}

/// <summary>A conditional step with three cases chosen by a parameter.</summary>
public partial class SwitchFlow : FlowSpec
{
    [Parameter(Help = "a, b or c")]
    public string Case { get; init; } = "a";

    public partial string Trail { get; set; }

    [Step]
    public void Start()
    {
        Trail = "S";
        if (Case == "a")
        {
            Next(A);
        }
        else if (Case == "b")
        {
            Next(B);
        }
        else
        {
            Next(C);
        }
    }

    [Step] public void A() { Trail += ">A"; Next(End); }

    [Step] public void B() { Trail += ">B"; Next(End); }

    [Step] public void C() { Trail += ">C"; Next(End); }

    [Step] public void End() => Trail += ">E";
}

/// <summary>A conditional step inside a conditional step; the paths meet again at a plain step.</summary>
public partial class NestedSwitchFlow : FlowSpec
{
    [Parameter]
    public string Path { get; init; } = "aa";

    public partial string Trail { get; set; }

    [Step] public void Start() { Trail = "S"; if (Path[0] == 'a') { Next(A); } else { Next(B); } }

    [Step] public void A() { Trail += ">A"; if (Path[1] == 'a') { Next(AA); } else { Next(AB); } }

    [Step] public void AA() { Trail += ">AA"; Next(Meet); }

    [Step] public void AB() { Trail += ">AB"; Next(Meet); }

    [Step] public void B() { Trail += ">B"; Next(Meet); }

    [Step] public void Meet() { Trail += ">M"; Next(End); }

    [Step] public void End() { }
}

/// <summary>A conditional step inside one branch of a split.</summary>
public partial class SwitchInBranchFlow : FlowSpec
{
    [Parameter]
    public bool Left { get; init; } = true;

    public partial string Trail { get; set; }

    public partial string Seen { get; set; }

    [Step] public void Start() { Trail = "S"; Next(A, B); }

    [Step] public void A() { Trail += ">A"; if (Left) { Next(A1); } else { Next(A2); } }

    [Step] public void A1() { Trail += ">A1"; Next(Join); }

    [Step] public void A2() { Trail += ">A2"; Next(Join); }

    [Step] public void B() { Trail += ">B"; Next(Join); }

    [Step] public void Join(Inputs<SwitchInBranchFlow> inputs) { Seen = string.Join(",", inputs.Select(i => i.Trail)); Next(End); }

    [Step] public void End() { }
}

/// <summary>A conditional step in each child of a foreach: even items one way, odd ones the other.</summary>
public partial class SwitchInForeachFlow : FlowSpec
{
    public partial int[] Items { get; set; }

    public partial string Kind { get; set; }

    public partial string Seen { get; set; }

    [Step] public void Start() { Items = [1, 2, 3, 4]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(int item) { if (item % 2 == 0) { Next(Even); } else { Next(Odd); } }

    [Step] public void Even() { Kind = $"{Input}even"; Next(Join); }

    [Step] public void Odd() { Kind = $"{Input}odd"; Next(Join); }

    [Step] public void Join(Inputs<SwitchInForeachFlow> inputs) { Seen = string.Join(",", inputs.Select(i => i.Kind)); Next(End); }

    [Step] public void End() { }
}

/// <summary>A split on one path of a conditional step; both paths meet again before End.</summary>
public partial class BranchInSwitchFlow : FlowSpec
{
    [Parameter]
    public bool Wide { get; init; } = true;

    public partial string Trail { get; set; }

    [Step] public void Start() { Trail = "S"; if (Wide) { Next(Fork); } else { Next(Plain); } }

    [Step] public void Fork() { Trail += ">F"; Next(A, B); }

    [Step] public void A() { Trail += ">A"; Next(Join); }

    [Step] public void B() { Trail += ">B"; Next(Join); }

    [Step] public void Join(Inputs<BranchInSwitchFlow> inputs) { Trail = string.Join("+", inputs.Select(i => i.Trail)); Next(Tail); }

    [Step] public void Plain() { Trail += ">P"; Next(Tail); }

    [Step] public void Tail() { Trail += ">T"; Next(End); }

    [Step] public void End() { }
}

/// <summary>A foreach on one path of a conditional step.</summary>
public partial class ForeachInSwitchFlow : FlowSpec
{
    [Parameter]
    public bool Fan { get; init; } = true;

    public partial int[] Items { get; set; }

    public partial int Total { get; set; }

    [Step] public void Start() { Items = [1, 2, 3]; Total = -1; if (Fan) { Next(Spread); } else { Next(Tail); } }

    [Step] public void Spread() => Next(Each, forEach: nameof(Items));

    [Step] public void Each(int item) { Total = item * item; Next(Join); }

    [Step] public void Join(Inputs<ForeachInSwitchFlow> inputs) { Total = inputs.Sum(i => i.Total); Next(Tail); }

    [Step] public void Tail() => Next(End);

    [Step] public void End() { }
}

/// <summary>A conditional step that targets itself: a loop of three passes.</summary>
public partial class LoopFlow : FlowSpec
{
    public partial int Count { get; set; }

    public partial string Passes { get; set; }

    [Step] public void Start() { Count = 0; Passes = ""; Next(Loop); }

    [Step]
    public void Loop()
    {
        Count += 1;
        Passes += Iteration.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Count < 3)
        {
            Next(Loop);
        }
        else
        {
            Next(End);
        }
    }

    [Step] public void End() { }
}

/// <summary>A loop inside each child of a foreach: item n loops n times.</summary>
public partial class LoopInForeachFlow : FlowSpec
{
    public partial int[] Items { get; set; }

    public partial int Left { get; set; }

    public partial string Passes { get; set; }

    public partial string Seen { get; set; }

    [Step] public void Start() { Items = [1, 2, 3]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(int item) { Left = item; Passes = ""; Next(Loop); }

    [Step]
    public void Loop()
    {
        Left -= 1;
        Passes += Iteration.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Left > 0)
        {
            Next(Loop);
        }
        else
        {
            Next(Done);
        }
    }

    [Step] public void Done() => Next(Join);

    [Step] public void Join(Inputs<LoopInForeachFlow> inputs) { Seen = string.Join(",", inputs.Select(i => $"{i.Index}:{i.Passes}")); Next(End); }

    [Step] public void End() { }
}

/// <summary>A wide foreach: --count items (run it with --max-num-splits).</summary>
public partial class WideForeachFlow : FlowSpec
{
    [Parameter]
    public int Count { get; init; } = 1200;

    public partial int[] Items { get; set; }

    public partial long Square { get; set; }

    public partial long Total { get; set; }

    public partial bool Ordered { get; set; }

    [Step] public void Start() { Items = [.. Enumerable.Range(0, Count)]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(int item) { Square = (long)item * item; Next(Join); }

    [Step]
    public void Join(Inputs<WideForeachFlow> inputs)
    {
        Total = inputs.Sum(i => i.Square);
        Ordered = inputs.Select((input, position) => input.Index == position).All(x => x);
        Next(End);
    }

    [Step] public void End() { }
}

/// <summary>A foreach inside one branch of a split.</summary>
public partial class ForeachInBranchFlow : FlowSpec
{
    public partial int[] Items { get; set; }

    public partial int Total { get; set; }

    public partial string Seen { get; set; }

    [Step] public void Start() { Items = [1, 2, 3]; Next(Fan, Other); }

    [Step] public void Fan() => Next(Each, forEach: nameof(Items));

    [Step] public void Each(int item) { Total = item * 10; Next(JoinEach); }

    [Step] public void JoinEach(Inputs<ForeachInBranchFlow> inputs) { Total = inputs.Sum(i => i.Total); Next(Join); }

    [Step] public void Other() { Total = 1; Next(Join); }

    [Step] public void Join(Inputs<ForeachInBranchFlow> inputs) { Seen = string.Join(",", inputs.Select(i => i.Total)); Next(End); }

    [Step] public void End() { }
}

/// <summary>A split inside each child of a foreach.</summary>
public partial class BranchInForeachFlow : FlowSpec
{
    public partial string[] Items { get; set; }

    public partial string Part { get; set; }

    public partial string Seen { get; set; }

    [Step] public void Start() { Items = ["x", "y"]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(string item) => Next(A, B);

    [Step] public void A() { Part = $"{Input}A"; Next(JoinAB); }

    [Step] public void B() { Part = $"{Input}B"; Next(JoinAB); }

    [Step] public void JoinAB(Inputs<BranchInForeachFlow> inputs) { Part = string.Concat(inputs.Select(i => i.Part)); Next(JoinEach); }

    [Step] public void JoinEach(Inputs<BranchInForeachFlow> inputs) { Seen = string.Join(",", inputs.Select(i => i.Part)); Next(End); }

    [Step] public void End() { }
}

/// <summary>MergeArtifacts: equal artifacts pass by reference, the join's own value wins, exclude skips.</summary>
public partial class MergeFlow : FlowSpec
{
    public partial string Shared { get; set; }

    public partial int OnlyA { get; set; }

    public partial int Conflict { get; set; }

    public partial int Skipped { get; set; }

    [Step] public void Start() { Shared = "same"; Skipped = 0; Next(A, B); }

    [Step] public void A() { OnlyA = 1; Conflict = 1; Skipped = 1; Next(Join); }

    [Step] public void B() { Conflict = 2; Skipped = 2; Next(Join); }

    [Step]
    public void Join(Inputs<MergeFlow> inputs)
    {
        Conflict = inputs.Sum(i => i.Conflict);
        MergeArtifacts(inputs, exclude: [nameof(Skipped)]);
        Next(End);
    }

    [Step] public void End() { }
}

/// <summary>MergeArtifacts with inputs that disagree: the join fails naming the artifact.</summary>
public partial class MergeConflictFlow : FlowSpec
{
    public partial int Conflict { get; set; }

    [Step] public void Start() => Next(A, B);

    [Step] public void A() { Conflict = 1; Next(Join); }

    [Step] public void B() { Conflict = 2; Next(Join); }

    [Step] public void Join(Inputs<MergeConflictFlow> inputs) { MergeArtifacts(inputs); Next(End); }

    [Step] public void End() { }
}

/// <summary>The example of README.md, as written there: a split, a foreach in one branch, joins, a conditional step.</summary>
public partial class TrainFlow : FlowSpec
{
    public partial int[] Seeds { get; set; }
    public partial double Score { get; set; }

    [Step] public void Start() => Next(Linear, Forest);                          // split: two branches
    [Step] public void Linear() { Score = 0.8; Next(Pick); }
    [Step] public void Forest() { Seeds = [1, 2, 3]; Next(Tune, forEach: nameof(Seeds)); }  // one task per seed
    [Step] public void Tune(int seed) { Score = 0.7 + (seed / 100.0); Next(BestSeed); }   // the item as a typed parameter
    [Step] public void BestSeed(Inputs<TrainFlow> inputs) { Score = inputs.Max(i => i.Score); Next(Pick); } // join
    [Step] public void Pick(Inputs<TrainFlow> inputs)
    {
        Score = Math.Max(inputs[nameof(Linear)].Score, inputs[nameof(BestSeed)].Score);
        if (Score > 0.75) { Next(End); } else { Next(Retrain); }                  // conditional step
    }
    [Step] public void Retrain() => Next(End);
    [Step] public void End() => Console.WriteLine($"best {Score}");
}
