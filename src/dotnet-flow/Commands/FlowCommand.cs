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
