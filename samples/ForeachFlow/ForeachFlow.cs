using Flow.Sdk;

namespace Samples;

/// <summary>A foreach fan-out and its join: one task per title, in parallel, and a join that gathers their results in order.</summary>
/// <remarks>A port of Metaflow's foreach example.</remarks>
public partial class ForeachFlow : FlowSpec
{
    /// <summary>What to fan out over: one <see cref="Process"/> task per item.</summary>
    public partial List<string> Titles { get; set; }

    /// <summary>What one <see cref="Process"/> task made of its title.</summary>
    public partial string Processed { get; set; }

    /// <summary>Every task's result, in the order of <see cref="Titles"/>.</summary>
    public partial List<string> Results { get; set; }

    /// <summary>Makes the list and fans out over it.</summary>
    [Step]
    public void Start()
    {
        Titles = ["The Glass Harbor", "Night Shift", "Paper Crowns"];
        Next(Process, forEach: nameof(Titles));
    }

    /// <summary>Runs once per title; the title comes in as the typed parameter, its position as <c>Index</c>.</summary>
    [Step]
    public void Process(string title)
    {
        Processed = $"{title} processed (item {Index})";
        Console.WriteLine(Processed);
        Next(Join);
    }

    /// <summary>Runs once all the titles are processed; its inputs are in the order of the items.</summary>
    [Step]
    public void Join(Inputs<ForeachFlow> inputs)
    {
        Results = [.. inputs.Select(input => input.Processed)];
        Next(End);
    }

    /// <summary>Prints the results.</summary>
    [Step]
    public void End() => Console.WriteLine(string.Join(Environment.NewLine, Results));
}
