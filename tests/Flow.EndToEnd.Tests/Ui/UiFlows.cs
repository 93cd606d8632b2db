using Flow.Sdk;

namespace UiLab;

/// <summary>Fails in Train after printing lines (one of them hostile markup); its artifacts hold markup too.</summary>
public partial class FailingFlow : FlowSpec
{
    public partial string Note { get; set; }

    public partial byte[] Chart { get; set; }

    public partial Score[] Scores { get; set; }

    public partial Dictionary<string, int[]> Nested { get; set; }

    [Step]
    public void Start()
    {
        Note = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">";
        Chart = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");
        Scores = [new Score("ada", 0.91), new Score("<b>bob</b>", 0.87)];
        Nested = new() { ["a"] = [1, 2], ["b"] = [3] };
        Next(Train);
    }

    [Step]
    public void Train()
    {
        Console.WriteLine("loading data");
        Console.WriteLine("<script>window.__pwned = 3</script>");
        if (Note.Length > 0)
        {
            throw new InvalidOperationException("model diverged");
        }
        Next(End);
    }

    [Step] public void End() { }
}

public sealed record Score(string Name, double Value);

/// <summary>A foreach of three children that each wait for a file to exist: a run that stays live until the test lets it end.</summary>
public partial class SlowFlow : FlowSpec
{
    [Parameter] public string Gate { get; init; } = "";

    public partial int[] Items { get; set; }

    [Step] public void Start() { Items = [1, 2, 3]; Next(Wait, forEach: nameof(Items)); }

    [Step]
    public void Wait(int item)
    {
        while (Gate.Length > 0 && !File.Exists(Gate))
        {
            Thread.Sleep(100);
        }
        Next(Join);
    }

    [Step] public void Join(Inputs<SlowFlow> inputs) => Next(End);

    [Step] public void End() { }
}
