using System.Xml.Linq;
using Flow.Sdk;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// The samples of samples/, each run through the packed tool and its results read back through the client API
/// (FlowClient, in this process). Each sample's sources and data files are copied into a project made from the
/// packed template (one project per sample, built once and shared by its tests), with the sample's other package
/// references; one test also builds a sample from its own project files, as samples/README.md tells users to.
/// </summary>
[Collection(PackedProductCollection.Name)]
public sealed class SamplesTests(PackedProduct product)
{
    private static readonly string[] s_species = ["setosa", "versicolor", "virginica"];

    [Fact]
    public void EverySample_IsAFlowSdkProject_WithAReadme_ListedInTheSamplesReadme_AndRunByThisClass()
    {
        var folder = SampleProjects.Folder;
        var index = File.ReadAllText(Path.Combine(folder, "README.md"));

        Directory.GetDirectories(folder).Select(d => Path.GetFileName(d)).ShouldBe(SampleProjects.Names, ignoreOrder: true);
        foreach (var sample in SampleProjects.Names)
        {
            var dir = Path.Combine(folder, sample);
            var references = XDocument.Load(Path.Combine(dir, sample + ".csproj")).Descendants("PackageReference")
                .ToDictionary(r => (string)r.Attribute("Include")!, r => (string?)r.Attribute("Version"));
            references.ShouldContainKey("Flow.Sdk", sample);
            references["Flow.Sdk"].ShouldBe("0.1.0-*", sample);
            Directory.GetFiles(dir, "*.cs").ShouldNotBeEmpty(sample);
            File.ReadAllText(Path.Combine(dir, "README.md")).ShouldStartWith($"# {sample}\n", customMessage: sample);
            index.ShouldContain($"[{sample}]({sample})", customMessage: sample);
        }
    }

    [Fact]
    public void SampleProjectFiles_BuildAndRunInPlace_WithTheNewestFlowSdkOfArtifactsPackages()
    {
        // The layout of a clone after eng/install.sh: samples/ beside artifacts/packages holding the packed Flow.Sdk.
        var clone = Path.Combine(product.Root, "clone-" + Guid.NewGuid().ToString("N")[..6]);
        CopyDirectory(SampleProjects.Folder, Path.Combine(clone, "samples"));
        Directory.CreateDirectory(Path.Combine(clone, "artifacts", "packages"));
        var package = $"Flow.Sdk.{product.Version}.nupkg";
        File.Copy(Path.Combine(product.Feed, package), Path.Combine(clone, "artifacts", "packages", package));
        var dir = Path.Combine(clone, "samples", "HelloFlow");

        var run = Run(dir, "HelloFlow");

        run["Hello"].Task.Data<string>("Message").ShouldBe("Hi from dotnet flow!");
        File.ReadAllText(Path.Combine(dir, "obj", "project.assets.json")).ShouldContain($"\"Flow.Sdk/{product.Version}\"");
    }

    [Fact]
    public void HelloFlow_StoresItsMessage_WhichTheLaterStepReads()
    {
        var dir = SampleProjects.Get(product, "HelloFlow", "HelloFlow");

        var run = Run(dir, "HelloFlow");

        run.Steps.Select(s => s.Name).ShouldBe(["Start", "Hello", "End"]);
        run["Hello"].Task.Data<string>("Message").ShouldBe("Hi from dotnet flow!");
        run["End"].Task.Stdout.ShouldContain("HelloFlow is all done: Hi from dotnet flow!");
        FlowClient.GetFlow("HelloFlow").LatestSuccessfulRun!.Id.ShouldBe(run.Id);
    }

    [Fact]
    public void CounterFlow_KeepsTheValueOfEveryStep_AndTheListChangedInPlace()
    {
        var dir = SampleProjects.Get(product, "CounterFlow", "CounterFlow");

        var run = Run(dir, "CounterFlow");

        string[] steps = ["Start", "Add", "Double", "End"];
        steps.Select(step => run[step].Task.Data<int>("Count")).ShouldBe([0, 1, 2, 3]);
        run["Start"].Task.Data<List<int>>("History").ShouldBe([0]);
        run["Double"].Task.Data<List<int>>("History").ShouldBe([0, 1, 2]);
        run["End"].Task.Data<List<int>>("History").ShouldBe([0, 1, 2, 3]);
        run["Double"].Task.Stdout.ShouldContain("The count is 1 before doubling.");
    }

    [Fact]
    public void ParametersFlow_TakesTheRequiredOne_TheDefault_AndOneFromTheEnvironment()
    {
        var dir = SampleProjects.Get(product, "ParametersFlow", "ParametersFlow");

        var run = Run(dir, "ParametersFlow", new() { ["FLOW_RUN_ALPHA"] = "0.5" }, "--creature", "dog");

        run.Parameters.ShouldBe(["Alpha", "Animal", "Count"], ignoreOrder: true);
        var start = run["Start"].Task;
        start.Data<string>("Animal").ShouldBe("dog");
        start.Data<int>("Count").ShouldBe(3);
        start.Data<double>("Alpha").ShouldBe(0.5);
        start.Data<string>("Call").ShouldBe("dog dog dog");
        start.Data<double>("Scaled").ShouldBe(1.5);
        run["End"].Task.Data<double>("Alpha").ShouldBe(0.5);
    }

    [Fact]
    public void ParametersFlow_WithoutTheRequiredParameter_DoesNotStart()
    {
        var dir = SampleProjects.Get(product, "ParametersFlow", "ParametersFlow");
        var before = LabProject.RunCount(dir, "ParametersFlow");

        var result = product.Flow(dir, "run", "--flow", "ParametersFlow");

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Stderr.ShouldContain("--creature", customMessage: result.ToString());
        result.Stderr.ShouldContain("FLOW_RUN_CREATURE", customMessage: result.ToString());
        LabProject.RunCount(dir, "ParametersFlow").ShouldBe(before);
    }

    [Fact]
    public void JsonConfigFlow_BindsTheBundledConfigFile_ToTheRecord_AndPlansFromIt()
    {
        var dir = SampleProjects.Get(product, "JsonConfigFlow", "JsonConfigFlow");

        var run = Run(dir, "JsonConfigFlow", null, "--config", "@config.json");

        var config = run["Start"].Task.Data<TrainingConfigView>("Config");
        config.Model.ShouldBe("gradient-boosting");
        config.LearningRate.ShouldBe(0.2);
        config.Decay.ShouldBe(0.5);
        config.Epochs.ShouldBe(4);
        config.Features.ShouldBe(["sepal_length", "petal_length", "petal_width"]);
        run["Start"].Task.Data<double[]>("Schedule").ShouldBe([0.2, 0.1, 0.05, 0.025]);
        run["Plan"].Task.Data<string>("Summary").ShouldBe("gradient-boosting on sepal_length, petal_length, petal_width: 4 epochs, learning rate 0.2 -> 0.1 -> 0.05 -> 0.025");
    }

    [Fact]
    public void JsonConfigFlow_ConfigWithMisspelledMembers_IsAnInputError_AndCreatesNoRun()
    {
        var dir = SampleProjects.Get(product, "JsonConfigFlow", "JsonConfigFlow");
        var before = LabProject.RunCount(dir, "JsonConfigFlow");

        var result = product.Flow(dir, "run", "--flow", "JsonConfigFlow", "--config", """{"model":"m","learnRate":0.1,"decay":1,"epochs":1,"features":["a"]}""");

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Stderr.ShouldContain("--config", customMessage: result.ToString());
        result.Stderr.ShouldContain("learnRate", customMessage: result.ToString());
        LabProject.RunCount(dir, "JsonConfigFlow").ShouldBe(before);
    }

    [Fact]
    public void JsonConfigFlow_CamelCaseMembers_BindToThePascalCaseRecord()
    {
        var dir = SampleProjects.Get(product, "JsonConfigFlow", "JsonConfigFlow");

        var result = product.Flow(dir, "run", "--flow", "JsonConfigFlow", "--config", """{"model":"m","learningRate":0.25,"decay":1,"epochs":3,"features":["a"]}""");

        result.ExitCode.ShouldBe(0, result.ToString());
        result.Stdout.ShouldContain("3 epochs, learning rate 0.25", customMessage: result.ToString());
    }

    [Fact]
    public void CsvFlow_StoresTheBundledCsv_AndParsesItWithTheDelimiterParameter()
    {
        var dir = SampleProjects.Get(product, "CsvFlow", "CsvFlow");
        var csv = File.ReadAllText(Path.Combine(dir, "movies.csv"));
        var semicolons = Path.Combine(product.Root, $"movies-{Guid.NewGuid():N}.csv");
        File.WriteAllText(semicolons, csv.Replace(',', ';'));

        var byDefault = Run(dir, "CsvFlow");
        var withDelimiter = Run(dir, "CsvFlow", null, "--data", semicolons, "--delimiter", ";", "--genre", "comedy", "--length", "2");

        byDefault["Start"].Task.Data<string>("Data").ShouldBe(csv);
        byDefault["Start"].Task.Data<List<MovieView>>("Movies").Count.ShouldBe(18);
        byDefault["MakePlaylist"].Task.Data<List<string>>("Playlist").ShouldBe(["Orbit of Glass", "The Last Algorithm", "Red Dunes"]);
        withDelimiter["Start"].Task.Data<string>("Delimiter").ShouldBe(";");
        withDelimiter["MakePlaylist"].Task.Data<List<string>>("Playlist").ShouldBe(["Punchline", "Wedding Crashers Anonymous"]);
        foreach (var run in new[] { byDefault, withDelimiter })
        {
            var counts = run["Start"].Task.Data<Dictionary<string, int>>("GenreCounts");
            counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}").ShouldBe(["Action=4", "Comedy=4", "Drama=5", "Sci-Fi=5"]);
        }
    }

    [Fact]
    public void ForeachFlow_RunsOneTaskPerItem_AndTheJoinGathersTheirResultsInOrder()
    {
        var dir = SampleProjects.Get(product, "ForeachFlow", "ForeachFlow");

        var run = Run(dir, "ForeachFlow");

        string[] processed = ["The Glass Harbor processed (item 0)", "Night Shift processed (item 1)", "Paper Crowns processed (item 2)"];
        run["Start"].Task.Data<List<string>>("Titles").ShouldBe(["The Glass Harbor", "Night Shift", "Paper Crowns"]);
        var tasks = run["Process"].Tasks.OrderBy(t => t.Index).ToList();
        tasks.Select(t => t.Index).ShouldBe([0, 1, 2]);
        tasks.Select(t => t.Data<string>("Processed")).ShouldBe(processed);
        run["Join"].Task.Data<List<string>>("Results").ShouldBe(processed);
    }

    [Fact]
    public void Classifier_TrainKeepsTheMoreAccurateModel_AndPredictClassifiesWithItFromTheLatestSuccessfulTrainRun()
    {
        var dir = SampleProjects.Get(product, "Classifier", "ClassifierTrainFlow");

        var train = Run(dir, "ClassifierTrainFlow");
        // Typical flowers of the three species (the means flowers.csv was generated from), then one between two.
        var predict = Run(dir, "ClassifierPredictFlow", null, "--flowers", "[[5.0,3.4,1.5,0.25],[5.9,2.8,4.3,1.33],[6.6,3.0,5.55,2.03],[6.2,2.9,4.9,1.7]]");

        train["Start"].Task.Data<List<FlowerView>>("TrainRows").Count.ShouldBe(126);
        train["Start"].Task.Data<List<FlowerView>>("TestRows").Count.ShouldBe(54);
        var branches = new[] { "TrainSdca", "TrainLbfgs" }.Select(step => train[step].Task).ToList();
        var accuracies = branches.ToDictionary(t => t.Data<string>("ModelName"), t => t.Data<double>("Accuracy"));
        accuracies.Keys.ShouldBe(["SdcaMaximumEntropy", "LbfgsMaximumEntropy"], ignoreOrder: true);
        accuracies.Values.ShouldAllBe(accuracy => accuracy > 0.8 && accuracy <= 1.0);
        var chosen = train["ChooseModel"].Task;
        chosen.Data<Dictionary<string, double>>("Accuracies").OrderBy(a => a.Key, StringComparer.Ordinal)
            .ShouldBe(accuracies.OrderBy(a => a.Key, StringComparer.Ordinal));
        chosen.Data<double>("Accuracy").ShouldBe(accuracies.Values.Max());
        var best = branches.First(t => t.Data<double>("Accuracy") == accuracies.Values.Max());
        chosen.Data<string>("ModelName").ShouldBe(best.Data<string>("ModelName"));
        chosen["Model"].Sha.ShouldBe(best["Model"].Sha);
        chosen.Data<byte[]>("Model")[..2].ShouldBe("PK"u8.ToArray());

        var start = predict["Start"].Task;
        start.Data<string>("ModelRun").ShouldBe(train.Pathspec);
        start.Data<string>("ModelName").ShouldBe(chosen.Data<string>("ModelName"));
        start["Model"].Sha.ShouldBe(chosen["Model"].Sha);
        var predictions = predict["Predict"].Task.Data<List<PredictionView>>("Predictions");
        predictions.Count.ShouldBe(4);
        predictions.ShouldAllBe(p => s_species.Contains(p.Species) && p.Confidence > 0 && p.Confidence <= 1);
        predictions.Take(3).Select(p => p.Species).ShouldBe(s_species);
        predictions[3].Measurements.ShouldBe([6.2f, 2.9f, 4.9f, 1.7f]);
    }

    private RunInfo Run(string dir, string flow, Dictionary<string, string?>? env = null, params string[] args)
    {
        var runIdFile = Path.Combine(product.Root, $"run-id-{Guid.NewGuid():N}");
        var environment = new Dictionary<string, string?>(product.Environment);
        foreach (var (name, value) in env ?? [])
        {
            environment[name] = value;
        }

        var result = ProcessRunner.Run(product.ToolExecutable, ["run", "--flow", flow, "--run-id-file", runIdFile, .. args], dir, environment);

        result.ExitCode.ShouldBe(0, result.ToString());
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var run = FlowClient.GetRun($"{flow}/{File.ReadAllText(runIdFile).Trim()}");
        run.Successful.ShouldBeTrue(result.ToString());
        return run;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private sealed record TrainingConfigView(string Model, double LearningRate, double Decay, int Epochs, string[] Features);

    private sealed record MovieView(string Title, int Year, string Genre, double Gross);

    private sealed record FlowerView(float SepalLength, float SepalWidth, float PetalLength, float PetalWidth, string Species);

    private sealed record PredictionView(float[] Measurements, string Species, double Confidence);
}

/// <summary>
/// Projects made from the packed template holding one sample each (its sources and data files instead of the
/// template's flow, plus the sample's package references other than Flow.Sdk), built once and shared.
/// </summary>
internal static class SampleProjects
{
    private static readonly Lock s_gate = new();
    private static readonly Dictionary<string, string> s_dirs = new(StringComparer.Ordinal);

    /// <summary>Every sample folder of samples/; each has tests in <see cref="SamplesTests"/>.</summary>
    public static readonly string[] Names = ["HelloFlow", "CounterFlow", "ParametersFlow", "JsonConfigFlow", "CsvFlow", "ForeachFlow", "Classifier"];

    /// <summary>The samples folder as copied into the test output.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Samples");

    public static string Get(PackedProduct product, string sample, string flowToBuild)
    {
        lock (s_gate)
        {
            if (!s_dirs.TryGetValue(sample, out var dir))
            {
                var source = Path.Combine(Folder, sample);
                dir = product.NewProject(sample);
                File.Delete(Path.Combine(dir, "HelloFlow.cs"));
                foreach (var file in Directory.GetFiles(source))
                {
                    var name = Path.GetFileName(file);
                    if (!name.EndsWith(".csproj", StringComparison.Ordinal) && name != "README.md")
                    {
                        File.Copy(file, Path.Combine(dir, name));
                    }
                }
                AddPackageReferences(Path.Combine(source, sample + ".csproj"), Path.Combine(dir, sample + ".csproj"));
                PackedProduct.Must(product.Flow(dir, "show", "--flow", flowToBuild));
                s_dirs[sample] = dir;
            }
            return dir;
        }
    }

    private static void AddPackageReferences(string sampleProject, string project)
    {
        var extra = XDocument.Load(sampleProject).Descendants("PackageReference")
            .Where(r => (string?)r.Attribute("Include") != "Flow.Sdk")
            .Select(r => new XElement("PackageReference", new XAttribute("Include", (string)r.Attribute("Include")!), new XAttribute("Version", (string)r.Attribute("Version")!)))
            .ToList();
        if (extra.Count == 0)
        {
            return;
        }
        var document = XDocument.Load(project);
        document.Descendants("PackageReference").Single(r => (string?)r.Attribute("Include") == "Flow.Sdk").Parent!.Add(extra);
        document.Save(project);
    }
}
