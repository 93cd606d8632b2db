using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Flow.EndToEnd.Tests.Ui;

/// <summary>
/// One Chromium (Debian's, driven by Playwright) and one <c>dotnet flow ui</c> of the packed tool over a project with
/// real runs, shared by the browser tests; each test gets a fresh browser context. Screenshots of each page go to
/// <c>artifacts/test-results/screenshots</c>.
/// </summary>
public sealed class UiBrowserFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Process? _ui;
    private IPlaywright? _playwright;
    private bool _ready;

    public PackedProduct Product { get; private set; } = null!;

    public string Dir { get; private set; } = "";

    public string Url { get; private set; } = "";

    public string FailedRun { get; private set; } = "";

    public string CardRun { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    public string Screenshots { get; } = Path.Combine(FindRoot(), "artifacts", "test-results", "screenshots");

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Starts the project, the UI and the browser on the first test (the product is the collection's).</summary>
    public async Task EnsureAsync(PackedProduct product)
    {
        await _gate.WaitAsync();
        try
        {
            if (!_ready)
            {
                Product = product;
                await StartAsync();
                _ready = true;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StartAsync()
    {
        var chromium = System.Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException($"Browser tests need Chromium at {chromium} (Debian: apt-get install chromium; .ci/run installs it), or CHROMIUM_PATH naming one.");
        }
        Dir = Product.NewProject("UiLab");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Ui", "UiFlows.cs"), Path.Combine(Dir, "UiFlows.cs"));
        var failed = Product.Flow(Dir, "run", "--flow", "FailingFlow", "--tag", "<b>bold</b><script>window.__pwned = 4</script>");
        failed.ExitCode.ShouldBe(1, failed.ToString());
        FailedRun = Regex.Match(failed.Stdout, @"Run (\d+) of").Groups[1].Value;
        FailedRun.ShouldNotBeEmpty(failed.ToString());
        var cards = PackedProduct.Must(Product.Flow(Dir, "run", "--flow", "CardFlow"));
        CardRun = Regex.Match(cards.Stdout, @"Run (\d+) of").Groups[1].Value;
        var start = new ProcessStartInfo(Product.ToolExecutable) { WorkingDirectory = Dir, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("ui");
        foreach (var (name, value) in Product.Environment)
        {
            start.Environment[name] = value;
        }
        _ui = Process.Start(start)!;
        var line = await _ui.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) ?? throw new InvalidOperationException("dotnet flow ui printed nothing: " + await _ui.StandardError.ReadToEndAsync());
        Url = Regex.Match(line, @"http://127\.0\.0\.1:\d+/").Value;
        Url.ShouldNotBeEmpty(line);
        Directory.CreateDirectory(Screenshots);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
            Timeout = 60_000,
        });
    }

    public async Task DisposeAsync()
    {
        if (_ready)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        if (_ui is { HasExited: false })
        {
            _ui.Kill(entireProcessTree: true);
            await _ui.WaitForExitAsync();
        }
        _ui?.Dispose();
    }

    private static string FindRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "flow.sln")))
            {
                return dir;
            }
        }
        return Path.GetTempPath();
    }
}

/// <summary>The UI as a user sees it in Chromium: lists, filters, a run's graph, a failed step's logs, a live run, hostile values.</summary>
[Collection(PackedProductCollection.Name)]
public sealed class UiBrowserTests(PackedProduct product, UiBrowserFixture ui) : IClassFixture<UiBrowserFixture>, IAsyncLifetime
{
    private IBrowserContext _context = null!;
    private IPage _page = null!;
    private readonly List<string> _dialogs = [];

    public async Task InitializeAsync()
    {
        await ui.EnsureAsync(product);
        _context = await ui.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = ui.Url, ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        _context.SetDefaultTimeout(15_000);
        _page = await _context.NewPageAsync();
        _page.Dialog += (_, dialog) => { _dialogs.Add(dialog.Message); _ = dialog.DismissAsync(); };
    }

    public async Task DisposeAsync() => await _context.CloseAsync();

    private Task Shot(string name) => _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ui.Screenshots, name + ".png"), FullPage = true });

    [Fact]
    public async Task RunList_FilterByStatus_ClickIntoARun_SeeTheGraphAndTheFailedStepsLogs()
    {
        await _page.GotoAsync("/");
        await Assertions.Expect(_page.Locator("#flows")).ToContainTextAsync("FailingFlow");
        await Shot("flows");
        await _page.Locator("#flows a", new PageLocatorOptions { HasText = "FailingFlow" }).ClickAsync();
        await _page.Locator("select[name=status]").SelectOptionAsync("failed");
        await Assertions.Expect(_page.Locator("#runs tr[data-run]")).ToHaveCountAsync(1);
        await Shot("runs");
        await _page.Locator($"#runs a", new PageLocatorOptions { HasText = ui.FailedRun }).ClickAsync();

        await Assertions.Expect(_page.Locator("#failure")).ToContainTextAsync("model diverged");
        await Assertions.Expect(_page.Locator("#graph [data-step=Train]")).ToHaveClassAsync(new Regex("failed"));
        await Assertions.Expect(_page.Locator("#graph [data-step=Start]")).ToHaveClassAsync(new Regex("succeeded"));
        await Assertions.Expect(_page.Locator("#graph [data-step=End]")).ToHaveClassAsync(new Regex("pending"));
        await Assertions.Expect(_page.Locator("#timeline .bar")).ToHaveCountAsync(2);
        await Shot("run-failed");
        await _page.Locator("#graph [data-step=Train]").ClickAsync();

        await Assertions.Expect(_page.Locator("#error")).ToContainTextAsync("InvalidOperationException: model diverged");
        await Assertions.Expect(_page.Locator("#logs")).ToContainTextAsync("loading data");
        await Shot("task-failed");
        _page.Url.ShouldEndWith($"/FailingFlow/{ui.FailedRun}/Train/2");
    }

    [Fact]
    public async Task HostileMarkup_InATagAnArtifactAndALogLine_ShowsAsText_AndNeverRuns()
    {
        await _page.GotoAsync($"/FailingFlow/{ui.FailedRun}");
        await Assertions.Expect(_page.Locator("#run-facts")).ToContainTextAsync("<b>bold</b><script>window.__pwned = 4</script>");
        await AssertInert();
        await _page.GotoAsync($"/FailingFlow/{ui.FailedRun}/Start/1");
        await _page.Locator("#artifacts a", new PageLocatorOptions { HasText = "Note" }).ClickAsync();
        await Assertions.Expect(_page.Locator("#artifact-value")).ToContainTextAsync("<script>window.__pwned = 1</script>");
        await Shot("task-hostile-artifact");
        await AssertInert();
        await _page.GotoAsync($"/FailingFlow/{ui.FailedRun}/Train/2");
        await Assertions.Expect(_page.Locator("#logs")).ToContainTextAsync("<script>window.__pwned = 3</script>");
        await AssertInert();
        _dialogs.ShouldBeEmpty();
    }

    private async Task AssertInert()
    {
        (await _page.EvaluateAsync<int?>("() => window.__pwned ?? null")).ShouldBeNull();
        (await _page.Locator("main script, main img, main b").CountAsync()).ShouldBe(0, "user values are text, never elements");
    }

    /// <summary>Starts a run of a flow whose tasks wait for a gate file; returns it once its id is known.</summary>
    private async Task<(Task<Flow.Tests.ProcessResult> Run, string Id, string Gate)> StartGatedRunAsync(string flow)
    {
        var gate = Path.Combine(ui.Dir, "gate-" + Guid.NewGuid().ToString("N"));
        var idFile = Path.Combine(ui.Dir, "run-id-" + Guid.NewGuid().ToString("N"));
        var run = Task.Run(() => ui.Product.Flow(ui.Dir, "run", "--flow", flow, "--gate", gate, "--run-id-file", idFile));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(File.Exists(idFile) && File.ReadAllText(idFile).Trim().Length > 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        return (run, File.ReadAllText(idFile).Trim(), gate);
    }

    [Fact]
    public async Task RunningRun_UpdatesWithoutReload_UntilItSucceeds()
    {
        var (run, id, gate) = await StartGatedRunAsync("SlowFlow");
        await _page.GotoAsync($"/SlowFlow/{id}");
        await Assertions.Expect(_page.Locator("#run-facts .status")).ToHaveTextAsync("running");
        await Assertions.Expect(_page.Locator("#graph [data-step=Wait]")).ToHaveClassAsync(new Regex("running"), new() { Timeout = 30_000 });
        await Shot("run-live");

        File.WriteAllText(gate, "go");

        await Assertions.Expect(_page.Locator("#run-facts .status")).ToHaveTextAsync("succeeded", new() { Timeout = 60_000 });
        await Assertions.Expect(_page.Locator("#graph [data-step=Wait] .counts")).ToContainTextAsync("3 done");
        await Shot("run-live-done");
        (await run).ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task TwoRunsChosenInTheList_AreComparedSideBySide()
    {
        for (var i = 0; i < 2; i++)
        {
            PackedProduct.Must(ui.Product.Flow(ui.Dir, "run", "--flow", "SlowFlow", "--tag", "compared"));
        }
        await _page.GotoAsync("/SlowFlow?tag=compared");
        await Assertions.Expect(_page.Locator("#runs tr[data-run]")).ToHaveCountAsync(2);
        await _page.Locator("#runs tr[data-run] input[type=checkbox]").Nth(0).CheckAsync();
        await _page.Locator("#runs tr[data-run] input[type=checkbox]").Nth(1).CheckAsync();
        await _page.Locator("#compare").ClickAsync();

        await Assertions.Expect(_page.Locator("h1")).ToHaveTextAsync("Compare 2 runs of SlowFlow");
        await Assertions.Expect(_page.Locator("#compare-table tr[data-name=Items]")).ToHaveClassAsync("same");
        await Assertions.Expect(_page.Locator("#compare-table tr[data-step=Wait]")).ToContainTextAsync("3 tasks");
        await Shot("compare");
    }

    [Fact]
    public async Task ComparedRunsWithADifferentParameter_ShowALineDiffOfIt()
    {
        var open = Path.Combine(ui.Dir, "UiFlows.cs"); // a gate that exists: the run does not wait
        var other = Regex.Match(PackedProduct.Must(ui.Product.Flow(ui.Dir, "run", "--flow", "CardFlow", "--gate", open)).Stdout, @"Run (\d+) of").Groups[1].Value;

        await _page.GotoAsync("/CardFlow");
        await Assertions.Expect(_page.Locator($"#runs tr[data-run='{ui.CardRun}'] td.params")).ToHaveTextAsync("Gate=\"\"");
        await Assertions.Expect(_page.Locator($"#runs tr[data-run='{other}'] td.params")).ToContainTextAsync("UiFlows.cs");

        await _page.GotoAsync($"/CardFlow/compare?runs={ui.CardRun},{other}");

        await Assertions.Expect(_page.Locator("#compare-table tr[data-name=Gate]").First).ToHaveClassAsync("differs");
        await Assertions.Expect(_page.Locator("#compare-table tr[data-diff=Gate] .added").First).ToContainTextAsync("UiFlows.cs");
        await Assertions.Expect(_page.Locator("#compare-table tr[data-diff=Gate] .removed").First).ToHaveTextAsync("- \"\"");
        await Assertions.Expect(_page.Locator("#compare-table tr[data-name=Accuracy]").First).ToHaveClassAsync("same");
        await Shot("compare-diff");
    }

    [Fact]
    public async Task Artifacts_ShowAsAnImage_ATableOfRecords_AndATree()
    {
        await _page.GotoAsync($"/FailingFlow/{ui.FailedRun}/Start/1");

        await _page.Locator("#artifacts a", new PageLocatorOptions { HasText = "Chart" }).ClickAsync();
        await Assertions.Expect(_page.Locator("#artifact-value img.artifact-image")).ToBeVisibleAsync();
        (await _page.Locator("#artifact-value img.artifact-image").EvaluateAsync<int>("img => img.naturalWidth")).ShouldBe(1);
        await _page.Locator("#artifacts a", new PageLocatorOptions { HasText = "Scores" }).ClickAsync();
        await Assertions.Expect(_page.Locator("#artifact-value table.records tr")).ToHaveCountAsync(3);
        await Assertions.Expect(_page.Locator("#artifact-value table.records")).ToContainTextAsync("<b>bob</b>");
        await _page.Locator("#artifacts a", new PageLocatorOptions { HasText = "Nested" }).ClickAsync();
        await Assertions.Expect(_page.Locator("#artifact-value .tree summary").First).ToContainTextAsync("a: [2]");
        await Shot("task-artifact-tree");
    }

    /// <summary>The frame the task page shows its card in, once it has loaded the card.</summary>
    private async Task<IFrame> CardFrameAsync()
    {
        await Assertions.Expect(_page.FrameLocator("#card-frame").Locator("article.flow-card")).ToBeVisibleAsync();
        return _page.Frames.Single(f => f.Url.Contains("/cards/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Card_WithAChartATableAndABrokenComponent_ShowsInASandboxedFrame_WhereMarkupStaysText()
    {
        await _page.GotoAsync($"/CardFlow/{ui.CardRun}/Start/1");

        var card = _page.FrameLocator("#card-frame");
        await Assertions.Expect(card.Locator("h1").First).ToHaveTextAsync("Training report");
        await Assertions.Expect(card.Locator(".flow-vega[data-drawn=true] svg").First).ToBeVisibleAsync();
        await Assertions.Expect(card.Locator(".flow-card-error")).ToContainTextAsync("This VegaLite could not be rendered");
        await Assertions.Expect(card.Locator(".flow-table").First).ToContainTextAsync("<b>bob</b>");
        await Assertions.Expect(card.Locator(".flow-markdown")).ToContainTextAsync("<script>window.__pwned = 5</script>");
        await Assertions.Expect(card.Locator(".flow-artifacts")).ToContainTextAsync("Accuracy");
        (await card.Locator(".flow-image img").EvaluateAsync<int>("img => img.naturalWidth")).ShouldBe(1);
        (await _page.Locator("#card-frame").GetAttributeAsync("sandbox")).ShouldBe("allow-scripts");
        var frame = await CardFrameAsync();
        (await frame.EvaluateAsync<string>("() => { try { return parent.document.title; } catch (e) { return 'blocked: ' + e.name; } }")).ShouldBe("blocked: SecurityError");
        await card.Locator(".flow-markdown a").ClickAsync();
        (await _page.EvaluateAsync<bool>("() => window.__pwned === undefined")).ShouldBeTrue();
        (await frame.EvaluateAsync<bool>("() => window.__pwned === undefined")).ShouldBeTrue();
        (await _page.Locator("#card-frame").EvaluateAsync<int>("f => f.offsetHeight")).ShouldBeGreaterThan(500, "the frame grows to its card");
        await Shot("card");
        _dialogs.ShouldBeEmpty();
    }

    [Fact]
    public async Task LiveCard_ShowsProgressWhileItsTaskRuns_ThenItsFinalState()
    {
        var (run, id, gate) = await StartGatedRunAsync("CardFlow");
        await _page.GotoAsync($"/CardFlow/{id}");
        await Assertions.Expect(_page.Locator("#graph [data-step=Live]")).ToHaveClassAsync(new Regex("running"), new() { Timeout = 30_000 });
        await _page.Locator("#graph [data-step=Live]").ClickAsync();

        var card = _page.FrameLocator("#card-frame");
        await Assertions.Expect(_page.Locator("#card-note")).ToContainTextAsync("live", new() { Timeout = 30_000 });
        await Assertions.Expect(card.Locator(".flow-progress-value")).ToContainTextAsync("/ 10", new() { Timeout = 30_000 });
        var first = await card.Locator("progress").GetAttributeAsync("value");
        await Assertions.Expect(card.Locator("progress")).Not.ToHaveAttributeAsync("value", first!, new() { Timeout = 15_000 });
        await Shot("card-live");

        File.WriteAllText(gate, "go");

        await Assertions.Expect(card.Locator(".flow-progress-value")).ToContainTextAsync("10 / 10 (100%)", new() { Timeout = 60_000 });
        await Assertions.Expect(card.Locator(".flow-card-header")).ToContainTextAsync("succeeded");
        await Assertions.Expect(_page.Locator("#card-note")).ToHaveTextAsync("");
        (await run).ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task CardGet_WritesOneSelfContainedFile_ThatDrawsItsChartWithNothingFetched()
    {
        var file = Path.Combine(ui.Dir, "start-card.html");
        var result = PackedProduct.Must(ui.Product.Flow(ui.Dir, "card", "get", $"CardFlow/{ui.CardRun}/Start", "--file", file));
        result.Stderr.ShouldContain($"Wrote the card of CardFlow/{ui.CardRun}/Start/1");
        var html = File.ReadAllText(file);
        html.ShouldNotContain("src=\"http", Case.Sensitive);
        html.ShouldNotContain("<script src=", Case.Sensitive);
        html.ShouldContain("Training report");

        var fetched = new List<string>();
        await _context.RouteAsync("**/*", async route =>
        {
            if (route.Request.Url.StartsWith("file:", StringComparison.Ordinal))
            {
                await route.ContinueAsync();
            }
            else
            {
                fetched.Add(route.Request.Url);
                await route.AbortAsync();
            }
        });
        var errors = new List<string>();
        _page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        await _page.GotoAsync(new Uri(file).AbsoluteUri);
        await Assertions.Expect(_page.Locator(".flow-vega[data-drawn=true] svg").First).ToBeVisibleAsync();
        await Assertions.Expect(_page.Locator(".flow-card-error")).ToContainTextAsync("This VegaLite could not be rendered");
        await Shot("card-file");
        fetched.ShouldBeEmpty();
        errors.ShouldBeEmpty("every inline script is allowed by its hash");
    }

    [Fact]
    public async Task CodeSnapshot_ListsItsFiles_AndShowsASourceHighlighted()
    {
        await _page.GotoAsync($"/FailingFlow/{ui.FailedRun}");
        await _page.Locator("#run-facts a", new PageLocatorOptions { HasText = "snapshot" }).ClickAsync();

        await Assertions.Expect(_page.Locator("#file-tree")).ToContainTextAsync("UiFlows.cs");
        await _page.Locator("#file-tree a", new PageLocatorOptions { HasText = "UiFlows.cs" }).ClickAsync();
        await Assertions.Expect(_page).ToHaveURLAsync(new Regex("/code\\?file=UiFlows\\.cs$"));
        await Assertions.Expect(_page.Locator("#source .text")).ToContainTextAsync("public partial class FailingFlow : FlowSpec");
        await Assertions.Expect(_page.Locator("#source .hl-keyword", new PageLocatorOptions { HasText = "partial" }).First).ToBeVisibleAsync();
        await Assertions.Expect(_page.Locator("#source .hl-string", new PageLocatorOptions { HasText = "loading data" }).First).ToBeVisibleAsync();
        await Assertions.Expect(_page.Locator("#source .hl-comment").First).ToBeVisibleAsync();
        await Shot("code");
        (await _page.APIRequest.GetAsync($"/api/runs/FailingFlow/{ui.FailedRun}/code/file?path=..%2F..%2Fformat.json")).Status.ShouldBe(404);
    }

    [Fact]
    public async Task AStepOfSeveralTasks_ExpandsInTheGraph_IntoItsTasks()
    {
        await _page.GotoAsync($"/CardFlow/{ui.CardRun}");
        await Assertions.Expect(_page.Locator("#graph [data-step=Report] .counts")).ToContainTextAsync("2 done");

        await _page.Locator("#graph [data-step=Report]").ClickAsync();

        await Assertions.Expect(_page.Locator(".step-tasks[data-step=Report] a.square.succeeded")).ToHaveCountAsync(2);
        await Shot("graph-expanded");
        await _page.Locator(".step-tasks[data-step=Report] a.square").Nth(1).ClickAsync();
        await Assertions.Expect(_page.Locator("h1")).ToHaveTextAsync(new Regex("^Report / \\d+$"));
        await Assertions.Expect(_page.FrameLocator("#card-frame").Locator(".flow-markdown")).ToContainTextAsync("Part b");
    }

    [Fact]
    public async Task PathTraversalUrls_AreRefused()
    {
        foreach (var path in (string[])["/api/runs/FailingFlow/..%2F..%2F..%2Fetc%2Fpasswd", "/api/tasks/FailingFlow/latest/..%2F..%2Fblobs/1", "/assets/..%2F..%2Fformat.json"])
        {
            var response = await _page.APIRequest.GetAsync(path);
            response.Status.ShouldBeOneOf(400, 404);
            (await response.TextAsync()).ShouldNotContain("root:");
        }
        // A page URL with a traversal is refused by the server or shows the page's own "Not found", never a file.
        var page = await _page.APIRequest.GetAsync("/FailingFlow/..%2F..%2F..%2Fetc%2Fpasswd");
        (await page.TextAsync()).ShouldNotContain("root:");
        await _page.GotoAsync("/FailingFlow/1234");
        await Assertions.Expect(_page.Locator("h1")).ToHaveTextAsync("Not found");
        await Assertions.Expect(_page.Locator("main pre.error")).ToContainTextAsync("has no run '1234'");
    }
}
