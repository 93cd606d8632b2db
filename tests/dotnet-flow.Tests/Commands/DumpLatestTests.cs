using Flow.Cli.Tests.Support;
using Flow.Sdk;

namespace Flow.Cli.Tests.Commands;

[Collection(NamespaceCollection.Name)]
public sealed class DumpLatestTests : IDisposable
{
    private readonly DatastoreScenario _scenario = new();
    private readonly string _older;
    private readonly string _newer;
    private readonly string _someoneElses;

    public DumpLatestTests()
    {
        _older = AddRunWithStart(second: 0, "tester", "older");
        _someoneElses = AddRunWithStart(second: 20, "someone-else", "theirs");
        _newer = AddRunWithStart(second: 10, "tester", "newer");
    }

    public void Dispose() => _scenario.Dispose();

    private string AddRunWithStart(int second, string user, string greeting)
    {
        var run = _scenario.AddRun(second, user);
        _scenario.AddTask(run, "Start", "1", new Dictionary<string, object?> { ["Greeting"] = greeting });
        return run;
    }

    [Fact]
    public void Dump_Latest_IsTheNewestRunInTheNamespace()
    {
        using var scope = new NamespaceScope("user:tester");

        var result = _scenario.Run("dump", "latest/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe($"HelloFlow/{_newer}/Start/1 (attempt 0, succeeded)\n  Greeting [System.String, 5 bytes] = \"newer\"\n");
    }

    [Fact]
    public void Dump_FlowLatest_IsTheNewestRunInTheNamespace()
    {
        using var scope = new NamespaceScope("user:tester");

        var result = _scenario.Run("dump", "HelloFlow/latest/Start/1", "--json");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain($"\"HelloFlow/{_newer}/Start/1\"");
    }

    [Fact]
    public void Dump_LatestInTheGlobalNamespace_IsTheNewestRun()
    {
        using var scope = new NamespaceScope(null);

        var result = _scenario.Run("dump", "HelloFlow/latest/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldStartWith($"HelloFlow/{_someoneElses}/Start/1 ");
    }

    [Fact]
    public void Dump_LatestByUserTag_SeesARunTaggedLater()
    {
        using var scope = new NamespaceScope("user:someone-else");
        var tagged = AddRunWithStart(second: 30, "tester", "tagged");
        _scenario.Store.WriteTags(DatastoreScenario.FlowName, tagged, ["user:someone-else"]);

        var result = _scenario.Run("dump", "latest/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldStartWith($"HelloFlow/{tagged}/Start/1 ");
    }

    [Fact]
    public void Dump_LatestWithNoRunInTheNamespace_ExitsWithUsage()
    {
        using var scope = new NamespaceScope("user:nobody");

        var result = _scenario.Run("dump", "latest/Start");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldContain("user:nobody");
        result.SingleErrorLine.ShouldContain("HelloFlow");
    }

    [Fact]
    public void Dump_RunIdOutsideTheNamespace_IsStillFound()
    {
        using var scope = new NamespaceScope("user:tester");

        var result = _scenario.Run("dump", $"{_someoneElses}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain("\"theirs\"");
    }

    [Fact]
    public void Dump_OlderRunById_PrintsThatRun()
    {
        using var scope = new NamespaceScope("user:tester");

        var result = _scenario.Run("dump", $"{_older}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain("\"older\"");
    }
}
