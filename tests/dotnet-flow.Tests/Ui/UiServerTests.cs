using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Flow.Cli.Tests.Support;
using Flow.Cli.Ui;
using Flow.Sdk;
using Flow.Sdk.Datastore;

namespace Flow.Cli.Tests.Ui;

/// <summary>
/// The UI's server over HTTP on a loopback port (docs/ui.md): pages, the JSON API read through the client, paging,
/// filters, server-sent events, and what a hostile value or path gets.
/// </summary>
public sealed class UiServerTests : IAsyncLifetime
{
    private const string Script = "<script>alert('x')</script>";
    private readonly DatastoreScenario _scenario = new();
    private readonly HttpClient _http = new();
    private UiServer? _server;
    private string _failed = "";
    private string _tagged = "";

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 60; i++)
        {
            var id = _scenario.AddRun(second: i * 10);
            _scenario.AddTask(id, "Start", "1", new Dictionary<string, object?> { ["Count"] = i });
            _scenario.Store.WriteRunEnd(DatastoreScenario.FlowName, id, new RunEndRecord(RunStates.Succeeded, DatastoreScenario.Time(i * 10 + 5), null));
            _tagged = id;
        }
        _scenario.Store.ChangeTags(DatastoreScenario.FlowName, _tagged, _ => ["best", Script]);
        _failed = _scenario.AddRun(second: 1000);
        _scenario.AddTask(_failed, "Start", "1", new Dictionary<string, object?> { ["Note"] = Script, ["Big"] = new string('x', 300_000) });
        _scenario.AddTask(_failed, "Train", "2", new Dictionary<string, object?>(), error: new ErrorRecord("InvalidOperationException", "boom " + Script, "   at Train()"));
        _scenario.Store.WriteRunEnd(DatastoreScenario.FlowName, _failed, new RunEndRecord(RunStates.Failed, DatastoreScenario.Time(1010), "step Train failed"));
        var client = FlowStore.Open(_scenario.Root);
        client.Namespace = Namespace.Global;
        _server = await UiServer.StartAsync(client, IPAddress.Loopback, 0);
        _http.BaseAddress = _server.Address;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        _http.Dispose();
        _scenario.Dispose();
    }

    private async Task<JsonElement> Get(string path)
    {
        using var response = await _http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public void Server_ListensOnLoopbackOnly_ByDefault()
    {
        _server!.Address.Host.ShouldBe("127.0.0.1");
        _server.Address.Port.ShouldBeGreaterThan(0);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/HelloFlow")]
    [InlineData("/HelloFlow/123/Start/1")]
    public async Task EveryPageUrl_ServesTheShell_WithAPolicyThatAllowsOnlyTheUisOwnScripts(string path)
    {
        using var response = await _http.GetAsync(path);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        (await response.Content.ReadAsStringAsync()).ShouldContain("/assets/app.js");
        string.Join(";", response.Headers.GetValues("Content-Security-Policy")).ShouldContain("script-src 'self'");
    }

    [Fact]
    public async Task Flows_ListEachFlowWithItsRunCountAndLatestRun()
    {
        var flows = await Get("/api/flows");

        flows.GetArrayLength().ShouldBe(1);
        flows[0].GetProperty("name").GetString().ShouldBe("HelloFlow");
        flows[0].GetProperty("runs").GetInt32().ShouldBe(61);
        flows[0].GetProperty("latest").GetProperty("id").GetString().ShouldBe(_failed);
    }

    [Fact]
    public async Task Runs_NewestFirst_PagedWithTotal()
    {
        var first = await Get("/api/flows/HelloFlow/runs?count=50");
        var second = await Get("/api/flows/HelloFlow/runs?from=50&count=50");

        first.GetProperty("total").GetInt32().ShouldBe(61);
        first.GetProperty("runs").GetArrayLength().ShouldBe(50);
        second.GetProperty("runs").GetArrayLength().ShouldBe(11);
        var starts = first.GetProperty("runs").EnumerateArray().Concat(second.GetProperty("runs").EnumerateArray())
            .Select(r => r.GetProperty("startedAt").GetDateTimeOffset()).ToList();
        starts.ShouldBe(starts.OrderByDescending(s => s).ToList());
    }

    [Theory]
    [InlineData("status=failed", 1)]
    [InlineData("status=succeeded", 60)]
    [InlineData("tag=best", 1)]
    [InlineData("q=BEST", 1)]
    [InlineData("tag=nothing", 0)]
    public async Task Runs_FilterByStatusTagAndText(string query, int expected)
    {
        var page = await Get("/api/flows/HelloFlow/runs?" + query);

        page.GetProperty("total").GetInt32().ShouldBe(expected);
    }

    [Fact]
    public async Task Run_HasItsStatusFailureTagsAndTasks()
    {
        var run = await Get($"/api/runs/HelloFlow/{_failed}");

        run.GetProperty("status").GetString().ShouldBe("failed");
        run.GetProperty("failure").GetString().ShouldBe("step Train failed");
        run.GetProperty("tasks").EnumerateArray().Select(t => $"{t.GetProperty("step").GetString()}/{t.GetProperty("id").GetString()}:{t.GetProperty("status").GetString()}")
            .ShouldBe(["Start/1:succeeded", "Train/2:failed"], ignoreOrder: true);
    }

    [Fact]
    public async Task Task_HasItsErrorAttemptsAndArtifacts()
    {
        var task = await Get($"/api/tasks/HelloFlow/{_failed}/Train/2");
        var start = await Get($"/api/tasks/HelloFlow/{_failed}/Start/1");

        task.GetProperty("error").GetProperty("type").GetString().ShouldBe("InvalidOperationException");
        task.GetProperty("error").GetProperty("stackTrace").GetString().ShouldBe("   at Train()");
        task.GetProperty("attempts").GetArrayLength().ShouldBe(1);
        start.GetProperty("artifacts").EnumerateArray().Select(a => a.GetProperty("name").GetString()).ShouldBe(["Big", "Note"], ignoreOrder: true);
    }

    [Fact]
    public async Task LargeArtifact_IsServedInPages_NeverWhole()
    {
        var first = await Get($"/api/tasks/HelloFlow/{_failed}/Start/1/artifacts/Big?count=100000000");
        var length = first.GetProperty("length").GetInt32();
        var text = first.GetProperty("text").GetString()!;

        length.ShouldBe(300_002, "the JSON string of 300,000 characters with its quotes");
        text.Length.ShouldBe(UiApi.MaxArtifactPage);
        var rest = await Get($"/api/tasks/HelloFlow/{_failed}/Start/1/artifacts/Big?offset={text.Length}&count={UiApi.MaxArtifactPage}");
        (text + rest.GetProperty("text").GetString()).ShouldBe("\"" + new string('x', 300_000) + "\"");
    }

    [Fact]
    public async Task HostileValues_AreEscapedInTheJson_NeverRawMarkup()
    {
        using var run = await _http.GetAsync($"/api/runs/HelloFlow/{_tagged}");
        using var value = await _http.GetAsync($"/api/tasks/HelloFlow/{_failed}/Start/1/artifacts/Note");

        foreach (var response in new[] { run, value })
        {
            var raw = await response.Content.ReadAsStringAsync();
            raw.ShouldNotContain("<script>");
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        }
        (await Get($"/api/runs/HelloFlow/{_tagged}")).GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ShouldContain(Script);
    }

    [Theory]
    [InlineData("/api/runs/HelloFlow/..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/api/runs/..%2Fruns/latest")]
    [InlineData("/api/tasks/HelloFlow/latest/..%2F..%2Fblobs/1")]
    [InlineData("/api/tasks/HelloFlow/latest/Start/..%2F..%2F..%2Fformat.json")]
    [InlineData("/api/flows/.../runs")]
    public async Task PathOutsideTheDatastore_IsRefused(string path)
    {
        using var response = await _http.GetAsync(path);

        ((int)response.StatusCode).ShouldBeOneOf(400, 404);
        var body = await response.Content.ReadAsStringAsync();
        JsonDocument.Parse(body).RootElement.GetProperty("error").GetString().ShouldNotBeNullOrEmpty();
        body.ShouldNotContain("root:");
    }

    [Fact]
    public async Task UnknownRunAndTask_Are404WithALine()
    {
        using var run = await _http.GetAsync("/api/runs/HelloFlow/1234");
        using var api = await _http.GetAsync("/api/nothing");

        run.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        api.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Events_OfAFinishedRun_SendItOnceThenEnd()
    {
        var text = await _http.GetStringAsync($"/api/runs/HelloFlow/{_failed}/events");

        text.ShouldStartWith("event: run\ndata: {");
        text.ShouldEndWith("event: end\ndata: {}\n\n");
    }

    [Fact]
    public async Task Compare_TwoRuns_MarksEachArtifactEqualOrDifferent_WithTheValues()
    {
        var a = _scenario.AddRun(second: 2000);
        _scenario.AddTask(a, "Start", "1", new Dictionary<string, object?> { ["Same"] = "kept", ["Score"] = 0.5 });
        var b = _scenario.AddRun(second: 2010);
        _scenario.AddTask(b, "Start", "1", new Dictionary<string, object?> { ["Same"] = "kept", ["Score"] = 0.75 });

        var compare = await Get($"/api/compare/HelloFlow?runs={a},{b}");

        compare.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ShouldBe([a, b]);
        var start = compare.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "Start");
        var rows = start.GetProperty("artifacts").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        rows["Same"].GetProperty("equal").GetBoolean().ShouldBeTrue();
        rows["Score"].GetProperty("equal").GetBoolean().ShouldBeFalse();
        rows["Score"].GetProperty("values").EnumerateArray().Select(v => v.GetProperty("json").GetString()).ShouldBe(["0.5", "0.75"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?runs=1796310000000000")]
    public async Task Compare_FewerThanTwoRuns_IsABadRequest(string query)
    {
        using var response = await _http.GetAsync("/api/compare/HelloFlow" + query);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Logs_ReadFromAnOffset_SayWhenComplete()
    {
        var logs = await Get($"/api/tasks/HelloFlow/{_failed}/Train/2/logs");

        logs.GetProperty("complete").GetBoolean().ShouldBeTrue();
        logs.GetProperty("lines").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public void GivenPortInUse_IsOneLineAndExit2()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var result = _scenario.Run("ui", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        result.ExitCode.ShouldBe(2, result.ToString());
        result.SingleErrorLine.ShouldContain($"Port {port}");
    }

    [Theory]
    [InlineData("--port", "0")]
    [InlineData("--port", "70000")]
    [InlineData("--port", "http")]
    [InlineData("--host", "localhost:80")]
    public void BadOption_IsOneLineAndExit2(string option, string value)
    {
        var result = _scenario.Run("ui", option, value);

        result.ExitCode.ShouldBe(2, result.ToString());
        result.SingleErrorLine.ShouldContain(option);
    }

    [Fact]
    public async Task Card_IsServedAsAPageOfItsOwn_SandboxedAndLimitedToTheUisAssets_AndItsStateSaysItIsFinal()
    {
        var dir = _scenario.Store.AttemptDir(DatastoreScenario.FlowName, _failed, "Start", "1", 0);
        _scenario.Store.WriteCard(dir, "<article class=\"flow-card\"><p>report &lt;script&gt;</p></article>");

        using var response = await _http.GetAsync($"/cards/HelloFlow/{_failed}/Start/1?v=1");
        var body = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        policy.ShouldContain("sandbox allow-scripts");
        policy.ShouldContain("default-src 'none'");
        policy.ShouldContain($"script-src http://127.0.0.1:{_server!.Address.Port}/assets/;");
        policy.ShouldNotContain("unsafe-eval");
        policy.ShouldNotContain("allow-same-origin");
        body.ShouldContain("<p>report &lt;script&gt;</p>");
        body.ShouldContain("<script src=\"/assets/vendor/vega.min.js\"></script>");
        body.ShouldContain("<script src=\"/assets/card.js\"></script>");
        var state = await Get($"/api/tasks/HelloFlow/{_failed}/Start/1/card");
        state.GetProperty("exists").GetBoolean().ShouldBeTrue();
        state.GetProperty("final").GetBoolean().ShouldBeTrue();
        (await Get($"/api/tasks/HelloFlow/{_failed}/Start/1")).GetProperty("card").GetProperty("exists").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public async Task TaskWithoutACard_Has404ForItsCardPage_AndSaysSoInItsState()
    {
        using var response = await _http.GetAsync($"/cards/HelloFlow/{_failed}/Train/2");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Get($"/api/tasks/HelloFlow/{_failed}/Train/2/card")).GetProperty("exists").GetBoolean().ShouldBeFalse();
    }

    [Theory]
    [InlineData("vendor/vega.min.js")]
    [InlineData("vendor/vega-lite.min.js")]
    [InlineData("vendor/vega-embed.min.js")]
    [InlineData("card.js")]
    [InlineData("card.css")]
    public async Task CardAssets_AreEmbedded_AndServed(string asset)
    {
        using var response = await _http.GetAsync("/assets/" + asset);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Length.ShouldBeGreaterThan(500);
    }

    [Fact]
    public void MissingDatastore_IsOneLineAndExit2()
    {
        using var empty = new Flow.Tests.TempDirectory("flow-ui-empty-");

        var result = ToolRunner.Run(_scenario.FileSystem, empty.Path, "ui", "--datastore", empty.Combine("none", ".flow"));

        result.ExitCode.ShouldBe(2, result.ToString());
        result.ErrorLines.Count.ShouldBe(1, result.ToString());
    }
}
