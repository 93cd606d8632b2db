using Flow.Sdk;

namespace FlowApp;

/// <summary>A first flow: greets someone and keeps the greeting with the run.</summary>
public partial class HelloFlow : FlowSpec
{
    [Parameter(Help = "Who to greet")]
    public string Name { get; init; } = "world";

    /// <summary>The greeting; an artifact, so it is stored with every run.</summary>
    public partial string Message { get; set; }

    /// <summary>The entry of the flow.</summary>
    [Step]
    public void Start()
    {
        Console.WriteLine($"Starting run {Current.RunId} for {Name}");
        Next(Hello);
    }

    /// <summary>Composes the greeting.</summary>
    [Step]
    public void Hello()
    {
        Message = $"Hello, {Name}!";
        Console.WriteLine(Message);
        Next(End);
    }

    /// <summary>The end of the flow: later steps read what earlier ones stored.</summary>
    [Step]
    public void End() => Console.WriteLine($"Done: {Message}");
}
