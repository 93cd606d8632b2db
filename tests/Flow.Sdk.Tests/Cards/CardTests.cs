using Flow.Sdk.Cards;
using Flow.Sdk.Datastore;
using Flow.Sdk.Tests.Support;

namespace Flow.Sdk.Tests.Cards;

/// <summary>
/// Cards (docs/cards.md): what each component renders, that every value is escaped, that a component that fails
/// shows its error in its place, and, through the task runner, that a card never fails its task and is stored
/// while the task runs and when it ends.
/// </summary>
public sealed class CardTests : IDisposable
{
    private static readonly byte[] s_png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");
    private readonly PipelineScenario _scenario = new();

    public void Dispose() => _scenario.Dispose();

    private TaskInfo TaskOf(string run)
    {
        var store = FlowStore.Open(_scenario.Root);
        store.Namespace = Namespace.Global;
        return store.GetFlow(PipelineScenario.FlowName).GetRun(run)["Start"]["1"];
    }

    private static string Render(params CardComponent[] components) => CardRenderer.Render("", components, null, live: false);

    [Fact]
    public void Markdown_RendersCommonMark_ButRawHtmlAndScriptUrlsStayInert()
    {
        var html = Render(new Markdown("# Title\n\n**bold** | a\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) [ok](https://example.org)"));

        html.ShouldContain("<h1 id=\"title\">Title</h1>");
        html.ShouldContain("<strong>bold</strong>");
        html.ShouldNotContain("<script>");
        html.ShouldContain("&lt;script&gt;alert(1)&lt;/script&gt;");
        html.ShouldNotContain("javascript:");
        html.ShouldContain("href=\"https://example.org\"");
    }

    [Fact]
    public void Table_EscapesEveryCell_AndSaysHowManyRowsItLeftOut()
    {
        var rows = Enumerable.Range(0, Table.MaxRows + 5).Select(i => new object?[] { i, "<b>x</b>", null });
        var html = Render(new Table(["n", "<i>h</i>", "empty"], rows));

        html.ShouldContain("<th>&lt;i&gt;h&lt;/i&gt;</th>");
        html.ShouldContain("<td>&lt;b&gt;x&lt;/b&gt;</td>");
        html.ShouldNotContain("<b>x</b>");
        html.ShouldContain($"The first {Table.MaxRows} of {Table.MaxRows + 5} rows.");
        html.ShouldNotContain($"<td>{Table.MaxRows}</td>");
    }

    [Fact]
    public void TableFrom_HasAColumnPerPublicProperty_AndCellsInInvariantCulture()
    {
        var html = Render(Table.From(new[] { new Row("ada", 0.5), new Row("bob", 1234.25) }));

        html.ShouldContain("<th>Name</th><th>Score</th>");
        html.ShouldContain("<td>1234.25</td>");
    }

    [Theory]
    [InlineData("png", "image/png")]
    [InlineData("jpeg", "image/jpeg")]
    [InlineData("svg", "image/svg+xml")]
    [InlineData("gif", "image/gif")]
    public void Image_ReadsItsFormatFromItsBytes(string kind, string expected)
    {
        byte[] bytes = kind switch
        {
            "png" => s_png,
            "jpeg" => [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10],
            "svg" => "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"u8.ToArray(),
            _ => "GIF89a...."u8.ToArray(),
        };

        Image.MediaType(bytes).ShouldBe(expected);
        Render(new Image(bytes, "<t>")).ShouldContain($"src=\"data:{expected};base64,");
    }

    [Fact]
    public void AComponentThatCannotRender_ShowsItsErrorInItsPlace_AndTheOthersRender()
    {
        var html = Render(new Markdown("before"), new Image([1, 2, 3]), new VegaLite("not json <script>"), new Markdown("after"));

        html.ShouldContain("<p>before</p>");
        html.ShouldContain("This Image could not be rendered: FormatException: the bytes are not a PNG, JPEG, GIF, WebP or SVG image");
        html.ShouldContain("This VegaLite could not be rendered");
        html.ShouldNotContain("<script>");
        html.ShouldContain("<p>after</p>");
    }

    [Fact]
    public void VegaLite_EmbedsItsSpecAsData_ThatCannotCloseItsElement()
    {
        var fromObject = Render(VegaLite.From(new { Mark = "bar", Title = "</script><script>alert(1)</script>" }));
        var fromText = Render(new VegaLite("{\"mark\":\"bar\",\"title\":\"</script><script>alert(1)</script>\"}"));

        fromObject.ShouldContain("<script type=\"application/json\">{\"mark\":\"bar\",\"title\":");
        fromText.ShouldContain("<script type=\"application/json\">{\"mark\":\"bar\",\"title\":\"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>\"}</script>");
        foreach (var html in new[] { fromObject, fromText })
        {
            html.Split("</script>").Length.ShouldBe(2, "the spec cannot end its element");
            html.ShouldNotContain("<script>alert");
        }
    }

    [Fact]
    public void ProgressBar_ClampsItsValue_AndShowsThePercentage()
    {
        var bar = new ProgressBar(10, "epochs");
        bar.Update(25);
        Render(bar).ShouldContain("<progress max=\"10\" value=\"10\"></progress><span class=\"flow-progress-value\">10 / 10 (100%)</span>");
        Should.Throw<ArgumentOutOfRangeException>(() => new ProgressBar(0));
    }

    [Fact]
    public void ACardLargerThanTheLimit_IsReplacedByANoteSayingSo()
    {
        var html = CardRenderer.Render("<header/>", [new Markdown(new string('x', CardRenderer.MaxCardChars))], null, live: false);

        html.Length.ShouldBeLessThan(2000);
        html.ShouldContain("more than the 16 MiB a card may hold");
    }

    [Fact]
    public void Refresh_FoldsCallsCloserThanTheInterval_IntoOneMoreStore_AndStopsWhenClosed()
    {
        var stored = new List<string>();
        var card = new TaskCard(html => { lock (stored) { stored.Add(html); } });
        var bar = new ProgressBar(100);
        card.Add(bar);

        for (var i = 1; i <= 50; i++)
        {
            bar.Update(i);
            card.Refresh();
        }
        lock (stored)
        {
            stored.Count.ShouldBe(1);
        }
        SpinWait.SpinUntil(() => { lock (stored) { return stored.Count == 2; } }, TimeSpan.FromSeconds(10)).ShouldBeTrue();
        lock (stored)
        {
            stored[1].ShouldContain("value=\"50\"");
        }
        card.Close();
        card.Refresh();
        Thread.Sleep(TaskCard.RefreshInterval + TimeSpan.FromMilliseconds(300));
        lock (stored)
        {
            stored.Count.ShouldBe(2);
        }
    }

    [Fact]
    public async Task ATaskThatAddsComponents_StoresItsCard_BeforeDoneJson_AndTheClientReadsIt()
    {
        _scenario.Hooks = new StepHooks { Start = f => Current.Card.Add(new Markdown("**hello** <b>"), new Image([0])) };
        var run = _scenario.StartRun();

        var done = await _scenario.RunTaskAsync(run, "Start", "1");

        done.Status.ShouldBe(AttemptDoneRecord.Succeeded, done.Error?.Message);
        var card = TaskOf(run).Card.ShouldNotBeNull();
        card.IsFinal.ShouldBeTrue();
        card.Attempt.ShouldBe(0);
        card.Html.ShouldContain("<strong>hello</strong> &lt;b&gt;");
        card.Html.ShouldContain("This Image could not be rendered");
        card.Html.ShouldContain("attempt 0 · succeeded");
        card.Html.ShouldNotContain("flow-artifacts", Case.Sensitive, "a step without [Card] lists no artifacts");
    }

    [Fact]
    public async Task ATaskWithoutCardOrComponents_HasNoCard()
    {
        var run = _scenario.StartRun();
        await _scenario.RunTaskAsync(run, "Start", "1");

        TaskOf(run).Card.ShouldBeNull();
    }

    [Fact]
    public async Task Refresh_StoresTheCardWhileTheTaskRuns_AndTheEndReplacesIt()
    {
        string? seen = null;
        bool? finalWhileRunning = null;
        _scenario.Hooks = new StepHooks
        {
            Start = f =>
            {
                var bar = new ProgressBar(4, "steps");
                Current.Card.Add(bar);
                bar.Update(2);
                Current.Card.Refresh();
                var task = TaskOf(Current.RunId!);
                seen = task.Card?.Html;
                finalWhileRunning = task.Card?.IsFinal;
                bar.Update(4);
            },
        };
        var run = _scenario.StartRun();

        await _scenario.RunTaskAsync(run, "Start", "1");

        seen.ShouldNotBeNull().ShouldContain("value=\"2\"");
        seen.ShouldContain("data-live=\"true\"");
        finalWhileRunning.ShouldBe(false);
        var card = TaskOf(run).Card.ShouldNotBeNull();
        card.Html.ShouldContain("value=\"4\"");
        card.Html.ShouldNotContain("data-live");
    }

    [Fact]
    public async Task AFailingStep_StillStoresItsCard_WithTheFailure()
    {
        _scenario.Hooks = new StepHooks { Start = f => { Current.Card.Add(new Markdown("partial results")); throw new InvalidOperationException("boom"); } };
        var run = _scenario.StartRun();

        var done = await _scenario.RunTaskAsync(run, "Start", "1");

        done.Status.ShouldBe(AttemptDoneRecord.Failed);
        var card = TaskOf(run).Card.ShouldNotBeNull();
        card.Html.ShouldContain("partial results");
        card.Html.ShouldContain("attempt 0 · failed");
    }

    [Fact]
    public void OutsideATask_TheCardKeepsComponents_AndRefreshStoresNothing()
    {
        Current.IsRunning.ShouldBeFalse();
        var before = Current.Card.Components.Count;
        Current.Card.Add(new Markdown("x"));
        Current.Card.Refresh();
        Current.Card.Components.Count.ShouldBe(before + 1);
        Current.Card.Clear();
    }

    private sealed record Row(string Name, double Score);
}
