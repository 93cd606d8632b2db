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

/// <summary>
/// Cards: a report with every kind of component (one broken, one with hostile Markdown), and a live card that
/// refreshes its progress until the gate file exists; a foreach of two reports, each its own card.
/// </summary>
public partial class CardFlow : FlowSpec
{
    [Parameter] public string Gate { get; init; } = "";

    public partial double Accuracy { get; set; }

    public partial string[] Parts { get; set; }

    [Card(Title = "Training report")]
    [Step]
    public void Start()
    {
        Accuracy = 0.93;
        Parts = ["a", "b"];
        Current.Card.Add(
            new Flow.Sdk.Cards.Markdown("# Results\n\nAccuracy **0.93** on the holdout.\n\n<script>window.__pwned = 5</script>\n\n[bad](javascript:window.__pwned=6)"),
            Flow.Sdk.Cards.Table.From(new[] { new Score("ada", 0.91), new Score("<b>bob</b>", 0.87) }),
            new Flow.Sdk.Cards.Image(Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="), "one pixel"),
            new Flow.Sdk.Cards.VegaLite("""
                {"$schema":"https://vega.github.io/schema/vega-lite/v6.json","data":{"values":[{"epoch":1,"loss":0.9},{"epoch":2,"loss":0.5},{"epoch":3,"loss":0.3}]},
                 "mark":"line","encoding":{"x":{"field":"epoch","type":"quantitative"},"y":{"field":"loss","type":"quantitative"}}}
                """),
            new Flow.Sdk.Cards.VegaLite("this is not a spec"));
        Next(Live);
    }

    [Step]
    public void Live()
    {
        var progress = new Flow.Sdk.Cards.ProgressBar(10, "epochs");
        Current.Card.Add(new Flow.Sdk.Cards.Markdown("Training…"), progress);
        var step = 0;
        while (Gate.Length > 0 && !File.Exists(Gate))
        {
            progress.Update(++step % 9 + 1); // keeps changing below 10 while the gate is closed
            Current.Card.Refresh();
            Thread.Sleep(200);
        }
        progress.Update(10);
        Next(Report, forEach: nameof(Parts));
    }

    [Card(Artifacts = false)]
    [Step]
    public void Report(string part)
    {
        Current.Card.Add(new Flow.Sdk.Cards.Markdown($"Part **{part}**"));
        Next(Join);
    }

    [Step] public void Join(Inputs<CardFlow> inputs) => Next(End);

    [Step] public void End() { }
}
