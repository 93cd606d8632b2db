using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Tests.Support;

/// <summary>An <see cref="IConsole"/> that records what a command writes and reads no input.</summary>
internal sealed class TestConsole : IConsole
{
    private readonly StringWriter _out = new() { NewLine = "\n" };
    private readonly StringWriter _error = new() { NewLine = "\n" };

    public TestConsole(string input = "")
    {
        In = new StringReader(input);
    }

    public event ConsoleCancelEventHandler? CancelKeyPress
    {
        add { }
        remove { }
    }

    public TextWriter Out => _out;

    public TextWriter Error => _error;

    public TextReader In { get; }

    public bool IsInputRedirected => true;

    public bool IsOutputRedirected => true;

    public bool IsErrorRedirected => true;

    public ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;

    public ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;

    /// <summary>Gets everything written to standard output.</summary>
    public string Output => _out.ToString();

    /// <summary>Gets everything written to standard error.</summary>
    public string ErrorOutput => _error.ToString();

    /// <summary>Gets the non-empty lines written to standard error.</summary>
    public IReadOnlyList<string> ErrorLines => ErrorOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public void ResetColor()
    {
    }
}
