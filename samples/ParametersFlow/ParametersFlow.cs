using System.Globalization;
using Flow.Sdk;

namespace Samples;

/// <summary>Parameters: one required, one with a default, and one that is easy to set from the environment.</summary>
/// <remarks>
/// A port of Metaflow's parameter examples. Each parameter is an init-only property: <c>--creature</c> (required),
/// <c>--count</c> (default 3) and <c>--alpha</c> (default 0.01); any of them can also be given as an environment
/// variable, <c>FLOW_RUN_CREATURE</c>, <c>FLOW_RUN_COUNT</c>, <c>FLOW_RUN_ALPHA</c>. Parameters are stored with
/// the run and visible in every step.
/// </remarks>
public partial class ParametersFlow : FlowSpec
{
    [Parameter("creature", Required = true, Help = "Which animal to call")]
    public string Animal { get; init; } = "";

    [Parameter(Help = "How many times to call it")]
    public int Count { get; init; } = 3;

    [Parameter(Help = "A learning rate, say; try FLOW_RUN_ALPHA=0.5")]
    public double Alpha { get; init; } = 0.01;

    /// <summary>The call, made from two parameters.</summary>
    public partial string Call { get; set; }

    /// <summary>A number made from the other two.</summary>
    public partial double Scaled { get; set; }

    /// <summary>Uses the parameters like any other property.</summary>
    [Step]
    public void Start()
    {
        Call = string.Join(" ", Enumerable.Repeat(Animal, Count));
        Scaled = Alpha * Count;
        Next(End);
    }

    /// <summary>Parameters are visible in every step.</summary>
    [Step]
    public void End() =>
        Console.WriteLine($"{Call}! (creature {Animal}, count {Count}, alpha {Alpha.ToString(CultureInfo.InvariantCulture)}, alpha x count {Scaled.ToString(CultureInfo.InvariantCulture)})");
}
