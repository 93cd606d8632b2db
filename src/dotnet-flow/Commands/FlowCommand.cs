using System.Reflection;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary><c>dotnet flow</c>: the root command; prints help when given no subcommand.</summary>
[Command("dotnet flow", FullName = "dotnet flow", Description = "Run, show and inspect data-science workflows written in C#.", ThrowOnUnexpectedArgument = false)]
[Subcommand(typeof(RunCommand), typeof(ResumeCommand), typeof(ShowCommand), typeof(DumpCommand), typeof(LogsCommand), typeof(VerifyCommand), typeof(DuCommand), typeof(GcCommand), typeof(TagCommand), typeof(CodeCommand), typeof(UiCommand), typeof(CardCommand))]
[HelpOption("-h|--help")]
[VersionOptionFromMember("--version", MemberName = nameof(Version))]
internal sealed class FlowCommand
{
    public static string Version =>
        typeof(FlowCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    [Option("--verbose", Description = "Show internal stack traces of errors.")]
    public bool Verbose { get; set; }

    public string[] RemainingArguments { get; set; } = [];

    /// <summary>Gets the subcommands' names, from the one list that registers them: "run, resume, ... and ui".</summary>
    internal static string CommandNames
    {
        get
        {
            var names = typeof(FlowCommand).GetCustomAttributes<SubcommandAttribute>().SelectMany(s => s.Types)
                .Select(t => t.GetCustomAttribute<CommandAttribute>()!.Name!).ToList();
            return string.Join(", ", names[..^1]) + " and " + names[^1];
        }
    }

    /// <summary>
    /// Each subcommand's name and how to make an application of it alone, in the order of the
    /// <see cref="SubcommandAttribute"/> above (a test keeps the two the same). Written out, not reflected: reading
    /// the attributes costs ~20 ms at start-up, and the generic types are then known to the ahead-of-time compiler.
    /// </summary>
    internal static readonly (string Name, Func<IConsole, string, CommandLineApplication> Create)[] Direct =
    [
        ("run", (c, d) => new CommandLineApplication<RunCommand>(c, d, false)),
        ("resume", (c, d) => new CommandLineApplication<ResumeCommand>(c, d, false)),
        ("show", (c, d) => new CommandLineApplication<ShowCommand>(c, d, false)),
        ("dump", (c, d) => new CommandLineApplication<DumpCommand>(c, d, false)),
        ("logs", (c, d) => new CommandLineApplication<LogsCommand>(c, d, false)),
        ("verify", (c, d) => new CommandLineApplication<VerifyCommand>(c, d, false)),
        ("du", (c, d) => new CommandLineApplication<DuCommand>(c, d, false)),
        ("gc", (c, d) => new CommandLineApplication<GcCommand>(c, d, false)),
        ("tag", (c, d) => new CommandLineApplication<TagCommand>(c, d, false)),
        ("code", (c, d) => new CommandLineApplication<CodeCommand>(c, d, false)),
        ("ui", (c, d) => new CommandLineApplication<UiCommand>(c, d, false)),
        ("card", (c, d) => new CommandLineApplication<CardCommand>(c, d, false)),
    ];

    /// <summary>
    /// An application of the subcommand <paramref name="args"/> name first, when they ask for no help or version
    /// text (those need the whole tree); otherwise null.
    /// </summary>
    internal static CommandLineApplication? DirectApplication(string[] args, IConsole console, string workingDirectory)
    {
        if (args.Length == 0 || Array.Exists(args, a => a is "-h" or "--help" or "-?" or "--version"))
        {
            return null;
        }
        foreach (var (name, create) in Direct)
        {
            if (name == args[0])
            {
                return create(console, workingDirectory);
            }
        }
        return null;
    }

    public int OnExecute(CommandLineApplication app)
    {
        if (RemainingArguments.Length > 0)
        {
            throw new Flow.Sdk.FlowException($"Unknown command or option '{Flow.Sdk.Hosting.InputChecks.Shorten(RemainingArguments[0])}'; the commands are {CommandNames} (see dotnet flow --help).");
        }
        app.ShowHelp();
        return 0;
    }
}
