using Flow.Sdk;
using Microsoft.ML;
using Microsoft.ML.Trainers;

namespace Samples;

/// <summary>Trains two ML.NET classifiers in parallel on the bundled flowers and keeps the more accurate one.</summary>
/// <remarks>
/// <c>Start</c> reads the data set (<c>--data</c>, default the bundled <c>flowers.csv</c>) and splits it into a
/// training and a test set; two branches train a different model each and measure its accuracy on the test set;
/// the join keeps the better model, saved as bytes, with its name and accuracy. ClassifierPredictFlow uses it.
/// </remarks>
public partial class ClassifierTrainFlow : FlowSpec
{
    [IncludeFile("data", Default = "flowers.csv", Help = "The flowers: CSV with sepal_length, sepal_width, petal_length, petal_width, species")]
    public string Data { get; init; } = "";

    [Parameter(Help = "The fraction of the rows held out to measure accuracy")]
    public double TestFraction { get; init; } = 0.3;

    [Parameter(Help = "The seed of the shuffle before the split")]
    public int Seed { get; init; } = 1;

    /// <summary>The rows the models learn from.</summary>
    public partial List<FlowerRow> TrainRows { get; set; }

    /// <summary>The rows the models are measured on.</summary>
    public partial List<FlowerRow> TestRows { get; set; }

    /// <summary>A model saved with <c>mlContext.Model.Save</c>: each branch's own, then the one the join keeps.</summary>
    public partial byte[] Model { get; set; }

    /// <summary>The name of the trainer that made <see cref="Model"/>.</summary>
    public partial string ModelName { get; set; }

    /// <summary>The accuracy of <see cref="Model"/> on the test rows.</summary>
    public partial double Accuracy { get; set; }

    /// <summary>The accuracy of every model trained, by name.</summary>
    public partial Dictionary<string, double> Accuracies { get; set; }

    /// <summary>Shuffles the rows with a fixed seed and splits them.</summary>
    [Step]
    public void Start()
    {
        var rows = FlowerModel.Parse(Data);
        new Random(Seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rows));
        var testCount = (int)Math.Round(rows.Count * TestFraction);
        TestRows = rows[..testCount];
        TrainRows = rows[testCount..];
        Console.WriteLine($"{rows.Count} flowers: {TrainRows.Count} to train on, {TestRows.Count} to test with.");
        Next(TrainSdca, TrainLbfgs);
    }

    /// <summary>A maximum-entropy model trained with stochastic dual coordinate ascent.</summary>
    [Step]
    public void TrainSdca()
    {
        ModelName = "SdcaMaximumEntropy";
        (Model, Accuracy) = FlowerModel.TrainAndEvaluate(TrainRows, TestRows, ml => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(
            new SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = 1 }));
        Console.WriteLine($"{ModelName}: accuracy {Accuracy:P1}");
        Next(ChooseModel);
    }

    /// <summary>A maximum-entropy model trained with L-BFGS.</summary>
    [Step]
    public void TrainLbfgs()
    {
        ModelName = "LbfgsMaximumEntropy";
        (Model, Accuracy) = FlowerModel.TrainAndEvaluate(TrainRows, TestRows, ml => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(
            new LbfgsMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = 1 }));
        Console.WriteLine($"{ModelName}: accuracy {Accuracy:P1}");
        Next(ChooseModel);
    }

    /// <summary>Keeps the more accurate model (the first branch's on a tie).</summary>
    [Step]
    public void ChooseModel(Inputs<ClassifierTrainFlow> inputs)
    {
        var best = inputs.OrderByDescending(input => input.Accuracy).First();
        Model = best.Model;
        ModelName = best.ModelName;
        Accuracy = best.Accuracy;
        Accuracies = inputs.ToDictionary(input => input.ModelName, input => input.Accuracy);
        Next(End);
    }

    /// <summary>Says which model won.</summary>
    [Step]
    public void End() => Console.WriteLine($"Kept {ModelName} ({Accuracy:P1} accurate; {string.Join(", ", Accuracies.Select(a => $"{a.Key} {a.Value:P1}"))}).");
}
