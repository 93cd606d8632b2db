using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Samples;

/// <summary>One flower: four measurements in cm, and its species (empty when it is to be predicted).</summary>
public sealed class FlowerRow
{
    public float SepalLength { get; set; }

    public float SepalWidth { get; set; }

    public float PetalLength { get; set; }

    public float PetalWidth { get; set; }

    public string Species { get; set; } = "";
}

/// <summary>What a model says about a flower.</summary>
public sealed class FlowerPrediction
{
    [ColumnName("PredictedLabel")]
    public string Species { get; set; } = "";

    /// <summary>The probability of each species, in the order of the model's label keys.</summary>
    public float[] Score { get; set; } = [];
}

/// <summary>The ML.NET code both classifier flows share: parsing, training, evaluating, saving and loading a model.</summary>
public static class FlowerModel
{
    private static readonly string[] s_features = [nameof(FlowerRow.SepalLength), nameof(FlowerRow.SepalWidth), nameof(FlowerRow.PetalLength), nameof(FlowerRow.PetalWidth)];

    /// <summary>Parses CSV text with a header: sepal_length,sepal_width,petal_length,petal_width,species.</summary>
    public static List<FlowerRow> Parse(string csv) =>
        [.. csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1)
            .Select(line => line.Split(','))
            .Select(cells => new FlowerRow
            {
                SepalLength = float.Parse(cells[0], CultureInfo.InvariantCulture),
                SepalWidth = float.Parse(cells[1], CultureInfo.InvariantCulture),
                PetalLength = float.Parse(cells[2], CultureInfo.InvariantCulture),
                PetalWidth = float.Parse(cells[3], CultureInfo.InvariantCulture),
                Species = cells[4],
            })];

    /// <summary>Trains a model on <paramref name="train"/>, measures its accuracy on <paramref name="test"/>, and returns it saved as bytes.</summary>
    /// <param name="trainer">Makes the multiclass trainer, reading the label from "Label" and the features from "Features".</param>
    public static (byte[] Model, double Accuracy) TrainAndEvaluate(List<FlowerRow> train, List<FlowerRow> test, Func<MLContext, IEstimator<ITransformer>> trainer)
    {
        var ml = new MLContext(seed: 0);
        var trainData = ml.Data.LoadFromEnumerable(train);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(FlowerRow.Species))
            .Append(ml.Transforms.Concatenate("Features", s_features))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(trainer(ml))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(trainData);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(test)));
        using var saved = new MemoryStream();
        ml.Model.Save(model, trainData.Schema, saved);
        return (saved.ToArray(), Math.Round(metrics.MicroAccuracy, 4));
    }

    /// <summary>Loads a model saved by <see cref="TrainAndEvaluate"/> and classifies flowers with it.</summary>
    public static List<FlowerPrediction> Predict(byte[] model, IEnumerable<FlowerRow> flowers)
    {
        var ml = new MLContext(seed: 0);
        var transformer = ml.Model.Load(new MemoryStream(model), out _);
        var engine = ml.Model.CreatePredictionEngine<FlowerRow, FlowerPrediction>(transformer);
        return [.. flowers.Select(engine.Predict)];
    }
}
