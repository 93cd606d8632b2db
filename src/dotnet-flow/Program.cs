using System.IO.Abstractions;
using Flow.Cli.Commands;
using Flow.Sdk;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli;

/// <summary>Composes the command line: services, commands, and how errors become exit codes.</summary>
public static class Program
{
    /// <summary>The tool's entry point.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The exit code.</returns>
    public static int Main(string[] args) => Run(args, PhysicalConsole.Singleton, new FileSystem(), Directory.GetCurrentDirectory());

    internal static int Run(string[] args, IConsole console, IFileSystem fs, string workingDirectory)
    {
        Trace.Mark("main");
        var verbose = args.Contains("--verbose");
        try
        {
            if (HandOffCommand.Direct(args, console, fs, workingDirectory) is { } handOff)
            {
                Trace.Mark("app created");
                return handOff.OnExecute();
            }
            var services = new Services(console, fs, workingDirectory);
            // Unexpected arguments are reported by the commands themselves (one error line, exit 2), never by
            // McMaster's hint, which would go to stdout.
            // The everyday path: a subcommand named first, without help or version options, is parsed by an
            // application of that command alone. McMaster's conventions reflect over every command they are given,
            // and for the whole tree that was ~45 ms of a 100 ms `show`; help keeps the whole tree for its text.
            var hintless = new HintlessConsole(console);
            var app = FlowCommand.DirectApplication(args, hintless, workingDirectory);
            var commandArgs = app is null ? args : args[1..];
            app ??= new CommandLineApplication<FlowCommand>(hintless, workingDirectory, throwOnUnexpectedArg: false);
            Trace.Mark("app created");
            // Only the conventions the commands use: each one reflects over every command at start-up, and
            // start-up is most of the time of show and dump. No default help option: 'run --help' lists the flow's
            // parameters (RunCommand prints them), and the other commands declare [HelpOption].
            app.Conventions
                .UseCommandAttribute()
                .UseVersionOptionFromMemberAttribute()
                .UseHelpOptionAttribute()
                .UseOptionAttributes()
                .UseArgumentAttributes()
                .SetRemainingArgsPropertyOnModel()
                .UseOnExecuteMethodFromModel()
                .UseConstructorInjection(services)
                .UseSubcommandAttributes();
            if (app.OptionHelp is { } rootHelp)
            {
                rootHelp.Inherited = false;
            }
            Trace.Mark("parsed");
            return app.Execute(commandArgs);
        }
        catch (CommandParsingException e)
        {
            console.Error.WriteLine($"error: {e.Message} (see dotnet flow --help)");
            return ExitCodes.Usage;
        }
        catch (FlowException e)
        {
            console.Error.WriteLine(verbose ? e.ToString() : "error: " + e.Message);
            return e.ExitCode;
        }
        catch (Exception e) when (e.InnerException is FlowException inner)
        {
            console.Error.WriteLine(verbose ? e.ToString() : "error: " + inner.Message);
            return inner.ExitCode;
        }
        catch (Exception e) when ((Flow.Sdk.Hosting.InputChecks.Describe(e) ?? (e.InnerException is { } inner ? Flow.Sdk.Hosting.InputChecks.Describe(inner) : null)) is { } known)
        {
            // A file system error that reached the top (a datastore file this user cannot read, say): one line
            // with the path and what to do, never a type name.
            console.Error.WriteLine(verbose ? e.ToString() : "error: " + known.Line);
            return known.ExitCode;
        }
        catch (Exception e)
        {
            console.Error.WriteLine(verbose
                ? e.ToString()
                : $"error: dotnet flow failed unexpectedly: {e.GetType().Name}: {e.Message} (rerun with --verbose for details)");
            return ExitCodes.Failure;
        }
    }
}

/// <summary>
/// The console McMaster itself writes to (help and version text; the commands write to the console the services
/// give them). A parse error (an option without its value) is one line on stderr, written by <see cref="Program"/>:
/// McMaster's hint before it ("Specify --help for a list of available options and commands.") would be a second
/// line, on stdout, so it is left out.
/// </summary>
internal sealed class HintlessConsole(IConsole inner) : IConsole
{
    public event ConsoleCancelEventHandler? CancelKeyPress
    {
        add => inner.CancelKeyPress += value;
        remove => inner.CancelKeyPress -= value;
    }

    public TextWriter Out { get; } = new HintFilter(inner.Out);

    public TextWriter Error => inner.Error;

    public TextReader In => inner.In;

    public bool IsInputRedirected => inner.IsInputRedirected;

    public bool IsOutputRedirected => inner.IsOutputRedirected;

    public bool IsErrorRedirected => inner.IsErrorRedirected;

    public ConsoleColor ForegroundColor { get => inner.ForegroundColor; set => inner.ForegroundColor = value; }

    public ConsoleColor BackgroundColor { get => inner.BackgroundColor; set => inner.BackgroundColor = value; }

    public void ResetColor() => inner.ResetColor();

    /// <summary>Passes everything on but the hint line.</summary>
    private sealed class HintFilter(TextWriter inner) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void Write(char value) => inner.Write(value);

        public override void Write(string? value) => inner.Write(value);

        public override void Write(char[] buffer, int index, int count) => inner.Write(buffer, index, count);

        public override void WriteLine(string? value)
        {
            if (value is not null && value.StartsWith("Specify --", StringComparison.Ordinal) && value.EndsWith(" for a list of available options and commands.", StringComparison.Ordinal))
            {
                return;
            }
            inner.WriteLine(value);
        }

        public override void Flush() => inner.Flush();
    }
}

/// <summary>The services commands take through their constructors.</summary>
internal sealed class Services(IConsole console, IFileSystem fs, string workingDirectory) : IServiceProvider
{
    public object? GetService(Type serviceType) =>
        serviceType == typeof(IConsole) ? console
        : serviceType == typeof(IFileSystem) ? fs
        : serviceType == typeof(WorkingDirectory) ? new WorkingDirectory(workingDirectory)
        : null;
}

/// <summary>The directory the tool was started in.</summary>
/// <param name="Path">The absolute path.</param>
internal sealed record WorkingDirectory(string Path);

/// <summary>Start-up timing marks on stderr when FLOW_TRACE=1 (for benchmarks; off by default).</summary>
internal static class Trace
{
    private static readonly bool s_on = Environment.GetEnvironmentVariable("FLOW_TRACE") == "1";
    private static readonly long s_start = System.Diagnostics.Stopwatch.GetTimestamp();
    private static readonly List<string> s_marks = [];

    public static void Mark(string what)
    {
        if (s_on)
        {
            // Since Main, and the wall clock (seconds within the minute), to line up with the flow's processes.
            s_marks.Add($"[trace] {System.Diagnostics.Stopwatch.GetElapsedTime(s_start).TotalMilliseconds:0} ms {what} (tool, at {DateTime.Now:ss.fff})");
            if (what == "printed" || what.StartsWith("handing off", StringComparison.Ordinal))
            {
                Console.Error.WriteLine(string.Join(Environment.NewLine, s_marks));
            }
        }
    }
}
