using Flow.Sdk;

namespace Samples;

/// <summary>One classified flower.</summary>
/// <param name="Measurements">Sepal length, sepal width, petal length and petal width, in cm.</param>
/// <param name="Species">The species the model predicts.</param>
/// <param name="Confidence">The probability the model gives that species.</param>
public sealed record Prediction(float[] Measurements, string Species, double Confidence);

/// <summary>Classifies new flowers with the model of the latest successful ClassifierTrainFlow run.</summary>
/// <remarks>
/// <c>Start</c> reads the model from another flow's run through the client API (<c>FlowClient</c>, inside a
/// step); the run it came from is kept as <see cref="ModelRun"/>, and the model itself as <see cref="Model"/>
/// (stored once: the datastore already holds the same bytes).
/// </remarks>
public partial class ClassifierPredictFlow : FlowSpec
{
    [Parameter(Help = "The flowers to classify, as JSON: a list of [sepal length, sepal width, petal length, petal width] in cm")]
    public List<float[]> Flowers { get; init; } = [[5.0f, 3.5f, 1.4f, 0.2f], [6.0f, 2.7f, 4.5f, 1.4f], [6.9f, 3.1f, 5.8f, 2.2f]];

    [Parameter(Help = "The ClassifierTrainFlow run to take the model from, as ClassifierTrainFlow/<run id>; default: the latest successful one")]
    public string TrainRun { get; init; } = "";

    /// <summary>The pathspec of the training run the model came from.</summary>
    public partial string ModelRun { get; set; }

    /// <summary>The model, as that run saved it.</summary>
    public partial byte[] Model { get; set; }

    /// <summary>The name of the trainer that made the model.</summary>
    public partial string ModelName { get; set; }

    /// <summary>One prediction per flower, in the order given.</summary>
    public partial List<Prediction> Predictions { get; set; }

    /// <summary>Checks the flowers, finds the training run and takes its model.</summary>
    [Step]
    public void Start()
    {
        if (Flowers.FirstOrDefault(f => f.Length != 4) is { } bad)
        {
            throw new ArgumentException($"A flower has four measurements; [{string.Join(", ", bad)}] has {bad.Length}.");
        }
        var run = TrainRun.Length > 0
            ? FlowClient.GetRun(TrainRun)
            : FlowClient.GetFlow(nameof(ClassifierTrainFlow)).LatestSuccessfulRun
                ?? throw new InvalidOperationException("No successful ClassifierTrainFlow run yet: run `dotnet flow run --flow ClassifierTrainFlow` first.");
        var chosen = run["ChooseModel"].Task;
        Model = chosen.Data<byte[]>("Model");
        ModelName = chosen.Data<string>("ModelName");
        ModelRun = run.Pathspec;
        Console.WriteLine($"Using {ModelName} from {ModelRun} ({chosen.Data<double>("Accuracy"):P1} accurate).");
        Next(Predict);
    }

    /// <summary>Classifies every flower.</summary>
    [Step]
    public void Predict()
    {
        var rows = Flowers.Select(f => new FlowerRow { SepalLength = f[0], SepalWidth = f[1], PetalLength = f[2], PetalWidth = f[3] });
        Predictions = [.. FlowerModel.Predict(Model, rows).Zip(Flowers, (p, f) => new Prediction(f, p.Species, Math.Round(p.Score.Max(), 4)))];
        Next(End);
    }

    /// <summary>Prints the predictions.</summary>
    [Step]
    public void End()
    {
        foreach (var p in Predictions)
        {
            Console.WriteLine($"[{string.Join(", ", p.Measurements)}] -> {p.Species} ({p.Confidence:P0})");
        }
    }
}
