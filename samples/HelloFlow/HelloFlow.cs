using Flow.Sdk;

namespace Samples;

/// <summary>The smallest flow: three steps in a line, and one artifact that a later step reads.</summary>
/// <remarks>A port of Metaflow's tutorial 00-helloworld.</remarks>
public partial class HelloFlow : FlowSpec
{
    /// <summary>What the flow says; an artifact, stored with the run and readable afterwards.</summary>
    public partial string Message { get; set; }

    /// <summary>Every flow starts here.</summary>
    [Step]
    public void Start()
    {
        Console.WriteLine("HelloFlow is starting.");
        Next(Hello);
    }

    /// <summary>Sets the message.</summary>
    [Step]
    public void Hello()
    {
        Message = "Hi from dotnet flow!";
        Console.WriteLine($"Flow says: {Message}");
        Next(End);
    }

    /// <summary>Every flow ends here; it reads the artifact the previous step stored.</summary>
    [Step]
    public void End() => Console.WriteLine($"HelloFlow is all done: {Message}");
}
