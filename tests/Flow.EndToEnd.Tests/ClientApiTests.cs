using System.Text.RegularExpressions;
using Flow.Sdk;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// The client API and the run commands around it through the packed product: tags and namespaces, code restored
/// and built, a step reading another flow's run (typed), the runner API, and a file-based C# script.
/// </summary>
[Collection(PackedProductCollection.Name)]
public sealed partial class ClientApiTests(PackedProduct product)
{
    [GeneratedRegex(@"Run (\d+) of (\w+) started")]
    private static partial Regex RunStarted();

    private static string RunId(ProcessResult result) => RunStarted().Match(result.Stdout).Groups[1].Value;

    [Fact]
    public void Tags_AddRemoveReplaceList_AndNamespaceByTag()
    {
        var dir = StoreProject.Get(product);
        var first = product.Flow(dir, "run", "--flow", "ProducerFlow", "--tag", "nightly");
        var second = product.Flow(dir, "run", "--flow", "ProducerFlow");
        first.ExitCode.ShouldBe(0, first.ToString());
        second.ExitCode.ShouldBe(0, second.ToString());
        var id = RunId(second);

        var add = product.Flow(dir, "tag", "add", $"ProducerFlow/{id}", "baseline", "v2");
        var remove = product.Flow(dir, "tag", "remove", $"ProducerFlow/{id}", "baseline");
        var replace = product.Flow(dir, "tag", "replace", $"ProducerFlow/{id}", "v2", "v3");
        var list = product.Flow(dir, "tag", "list", $"ProducerFlow/{id}");

        add.ExitCode.ShouldBe(0, add.ToString());
        add.Stdout.ShouldContain("tags:        baseline, v2");
        remove.Stdout.ShouldContain("tags:        v2");
        replace.Stdout.ShouldContain("tags:        v3");
        list.Stdout.ShouldContain("tags:        v3");
        list.Stdout.ShouldContain("system tags: user:e2e, runtime:local, sdk_version:");
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var flow = FlowClient.GetFlow("ProducerFlow");
        flow.GetRun(id).Tags.ShouldBe(["v3"]);
        try
        {
            FlowClient.Namespace = "nightly";
            flow.LatestRun!.Id.ShouldBe(RunId(first), "the namespace 'nightly' sees only the run tagged nightly");
            FlowClient.Namespace = "user:someone-else";
            flow.LatestRun.ShouldBeNull();
            FlowClient.Namespaces().ShouldContain("nightly");
            FlowClient.Namespaces().ShouldContain("user:e2e");
        }
        finally
        {
            FlowClient.Namespace = Namespace.Global;
        }
    }

    [Fact]
    public void Tag_Errors_AreOneLine_Exit2_AndChangeNothing()
    {
        var dir = StoreProject.Get(product);
        var run = product.Flow(dir, "run", "--flow", "ProducerFlow");
        run.ExitCode.ShouldBe(0, run.ToString());
        var id = RunId(run);

        var tooLong = product.Flow(dir, "tag", "add", $"ProducerFlow/{id}", new string('x', 501));
        var system = product.Flow(dir, "tag", "remove", $"ProducerFlow/{id}", "user:e2e");
        var missing = product.Flow(dir, "tag", "replace", $"ProducerFlow/{id}", "nope", "new");
        var badAction = product.Flow(dir, "tag", "rename", $"ProducerFlow/{id}", "a");

        foreach (var result in new[] { tooLong, system, missing, badAction })
        {
            result.ExitCode.ShouldBe(2, result.ToString());
            result.Stderr.Trim().Split('\n').Length.ShouldBe(1, result.ToString());
            result.Stderr.ShouldStartWith("error: ");
        }
        tooLong.Stderr.ShouldContain("1 to 500 characters");
        system.Stderr.ShouldContain("system tag");
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        FlowClient.GetRun($"ProducerFlow/{id}").Tags.ShouldBeEmpty();
    }

    [Fact]
    public void Code_Extract_RestoresTheSourcesARunExecuted_AndTheyBuild()
    {
        var dir = StoreProject.Get(product);
        var run = product.Flow(dir, "run", "--flow", "ProducerFlow");
        run.ExitCode.ShouldBe(0, run.ToString());
        using var temp = new TempDirectory("flow-code-");
        var target = temp.Combine("restored");

        var list = product.Flow(dir, "code", $"ProducerFlow/{RunId(run)}");
        var extract = product.Flow(dir, "code", $"ProducerFlow/{RunId(run)}", "--extract", target);

        list.ExitCode.ShouldBe(0, list.ToString());
        list.Stdout.ShouldContain("StoreFlows.cs");
        extract.ExitCode.ShouldBe(0, extract.ToString());
        File.ReadAllText(Path.Combine(target, "StoreFlows.cs")).ShouldBe(File.ReadAllText(Path.Combine(dir, "StoreFlows.cs")));
        var csproj = Directory.GetFiles(target, "*.csproj").ShouldHaveSingleItem();
        File.Copy(Path.Combine(dir, "nuget.config"), Path.Combine(target, "nuget.config"), overwrite: true);
        var build = product.Dotnet(target, "build", csproj, "-nologo", "-v:q");
        build.ExitCode.ShouldBe(0, build.ToString());
    }

    [Fact]
    public void AStep_ReadsAnotherFlowsLatestSuccessfulRun_TypedAndUntyped_InADatastoreGivenByFlag()
    {
        var dir = StoreProject.Get(product);
        using var temp = new TempDirectory("flow-consumer-");
        var store = temp.Combine(".flow");
        var producer = product.Flow(dir, "run", "--flow", "ProducerFlow", "--seed", "3", "--datastore", store);
        producer.ExitCode.ShouldBe(0, producer.ToString());

        var consumer = product.Flow(dir, "run", "--flow", "ConsumerFlow", "--datastore", store);

        consumer.ExitCode.ShouldBe(0, consumer.ToString());
        var id = RunId(producer);
        consumer.Stdout.ShouldContain($"ProducerFlow/{id} 21 3 made by {id} 21");
    }

    [Fact]
    public async Task Runner_RunsAFlowFromCode_AndReturnsTheRun_OrThrowsForBadInput()
    {
        var dir = StoreProject.Get(product);
        using var environment = new ProductEnvironment(product);
        var output = new StringWriter();
        var runner = new FlowRunner(dir) { Flow = "StressFlow", Output = output, Tags = ["from-runner"] };

        var run = await runner.RunAsync(new Dictionary<string, object?> { ["Count"] = 5, ["salt"] = 7 });

        run.Successful.ShouldBeTrue(output.ToString());
        run["Join"].Task.Data<long>("Total").ShouldBe(Enumerable.Range(0, 5).Sum(x => (long)x * x) + (5 * 7));
        run.Tags.ShouldBe(["from-runner"]);
        output.ToString().ShouldContain($"Run {run.Id} of StressFlow started");
        var error = await Should.ThrowAsync<FlowException>(() => runner.RunAsync(new Dictionary<string, object?> { ["Count"] = "many" }));
        error.ExitCode.ShouldBe(2);
        error.Message.ShouldContain("--count");
    }

    [Fact]
    public void FileBasedScript_ReadsRunsThroughTheClient()
    {
        var dir = StoreProject.Get(product);
        var run = product.Flow(dir, "run", "--flow", "ProducerFlow", "--seed", "5");
        run.ExitCode.ShouldBe(0, run.ToString());
        using var temp = new TempDirectory("flow-script-");
        File.Copy(Path.Combine(dir, "nuget.config"), temp.Combine("nuget.config"));
        File.WriteAllText(temp.Combine("Directory.Build.props"), "<Project />");
        File.WriteAllText(temp.Combine("script.cs"), $$"""
            #:package Flow.Sdk@{{product.Version}}
            using Flow.Sdk;

            FlowClient.UseDatastore(args[0]);
            var run = FlowClient.GetFlow("ProducerFlow").LatestSuccessfulRun!;
            Console.WriteLine($"{run.Pathspec} value {run["Start"].Task.Data<int>("Value")} in namespace {FlowClient.Namespace}");
            """);

        var script = product.Dotnet(temp.Path, "run", "script.cs", "--", Path.Combine(dir, ".flow"));

        script.ExitCode.ShouldBe(0, script.ToString());
        script.Stdout.ShouldContain($"ProducerFlow/{RunId(run)} value 35 in namespace user:e2e");
    }
}
