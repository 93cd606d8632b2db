using System.Globalization;
using System.Text.Json.Serialization;
using Flow.Sdk;

namespace Samples;

/// <summary>A training configuration, bound from JSON (inline, or <c>@file</c>) to a record.</summary>
/// <param name="Model">The model's name.</param>
/// <param name="LearningRate">The learning rate of the first epoch.</param>
/// <param name="Decay">What the learning rate is multiplied by after each epoch.</param>
/// <param name="Epochs">How many epochs to plan.</param>
/// <param name="Features">The columns to train on.</param>
/// <remarks>
/// JSON names match the property names in any case (<c>"learningRate"</c> binds LearningRate); a member the record
/// lacks is an input error. Every member is <c>[JsonRequired]</c>: a member missing from the JSON is then an input
/// error too, before the run starts, instead of a silent null or zero.
/// </remarks>
public sealed record TrainingConfig(
    [property: JsonRequired] string Model,
    [property: JsonRequired] double LearningRate,
    [property: JsonRequired] double Decay,
    [property: JsonRequired] int Epochs,
    [property: JsonRequired] string[] Features);

/// <summary>A JSON configuration parameter: the whole record is checked before the run starts and stored with it.</summary>
/// <remarks>
/// Run it with the bundled file, <c>dotnet flow run --config @config.json</c>, or inline JSON; without
/// <c>--config</c> the initializer's configuration is used. A file that is not valid JSON, or does not fit the
/// record (a member missing or of the wrong type), is an input error: one line, exit code 2, and no run.
/// </remarks>
public partial class JsonConfigFlow : FlowSpec
{
    [Parameter(Help = "The training configuration: JSON, or @path to a JSON file")]
    public TrainingConfig Config { get; init; } = new("baseline", 0.1, 1.0, 1, ["x"]);

    /// <summary>The learning rate of each epoch, computed from the configuration.</summary>
    public partial double[] Schedule { get; set; }

    /// <summary>A one-line summary of the configuration.</summary>
    public partial string Summary { get; set; }

    /// <summary>Checks the configuration and plans the learning rate of every epoch.</summary>
    [Step]
    public void Start()
    {
        if (Config.Epochs < 1 || Config.Features.Length == 0)
        {
            throw new ArgumentException($"The configuration needs at least one epoch and one feature; it has {Config.Epochs} and {Config.Features.Length}.");
        }
        Schedule = [.. Enumerable.Range(0, Config.Epochs).Select(epoch => Math.Round(Config.LearningRate * Math.Pow(Config.Decay, epoch), 6))];
        Next(Plan);
    }

    /// <summary>Describes the plan.</summary>
    [Step]
    public void Plan()
    {
        Summary = $"{Config.Model} on {string.Join(", ", Config.Features)}: {Config.Epochs} epochs, learning rate "
            + string.Join(" -> ", Schedule.Select(rate => rate.ToString(CultureInfo.InvariantCulture)));
        Next(End);
    }

    /// <summary>Prints the plan.</summary>
    [Step]
    public void End() => Console.WriteLine(Summary);
}
