using Flow.Sdk;

namespace Samples;

/// <summary>An int artifact changed step by step: every step's value is kept, so any of them can be read afterwards.</summary>
/// <remarks>A port of Metaflow's counter example, with a list changed in place as well.</remarks>
public partial class CounterFlow : FlowSpec
{
    /// <summary>The counter: each step reads the value the previous step left and stores its own.</summary>
    public partial int Count { get; set; }

    /// <summary>Every value the counter took, appended in place (a list changed in place is stored again too).</summary>
    public partial List<int> History { get; set; }

    /// <summary>Starts counting at zero.</summary>
    [Step]
    public void Start()
    {
        Count = 0;
        History = [Count];
        Next(Add);
    }

    /// <summary>Adds one.</summary>
    [Step]
    public void Add()
    {
        Console.WriteLine($"The count is {Count} before adding one.");
        Count += 1;
        History.Add(Count);
        Next(Double);
    }

    /// <summary>Doubles the count.</summary>
    [Step]
    public void Double()
    {
        Console.WriteLine($"The count is {Count} before doubling.");
        Count *= 2;
        History.Add(Count);
        Next(End);
    }

    /// <summary>Adds one more and prints where the counter has been.</summary>
    [Step]
    public void End()
    {
        Count += 1;
        History.Add(Count);
        Console.WriteLine($"The final count is {Count} (it went {string.Join(" -> ", History)}).");
    }
}
