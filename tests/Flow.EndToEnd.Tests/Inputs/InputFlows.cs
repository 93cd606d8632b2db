// Flows of the parameters matrix (ParameterMatrixTests): every parameter type, JSON configuration and included
// files, built into a project made from the template and run through the real tool.
using Flow.Sdk;

namespace Inputs;

public enum Shade
{
    Light,
    Dark,
}

/// <summary>A training configuration bound from JSON.</summary>
public sealed record TrainConfig(string Model, int Trees, double[] Rates, Dictionary<string, int> Limits);

/// <summary>Every supported parameter type, each echoed into an artifact by Start.</summary>
public partial class TypesFlow : FlowSpec
{
    [Parameter(Help = "A word")] public string Word { get; init; } = "hi";

    [Parameter] public bool Flag { get; init; }

    [Parameter] public int Count { get; init; } = 3;

    [Parameter] public long Big { get; init; } = 5_000_000_000;

    [Parameter] public double Ratio { get; init; } = 0.5;

    [Parameter] public decimal Price { get; init; } = 9.99m;

    [Parameter] public Shade Shade { get; init; } = Shade.Light;

    [Parameter] public DateTime When { get; init; } = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Parameter] public DateOnly Day { get; init; } = new(2026, 1, 2);

    [Parameter(Separator = ",")] public List<int> Seeds { get; init; } = [1, 2];

    [Parameter] public TrainConfig? Config { get; init; }

    [Parameter("creature", Required = true, Help = "Which animal")] public string Animal { get; init; } = "";

    public partial string Seen { get; set; }

    [Step]
    public void Start()
    {
        Seen = string.Join("|", Word, Flag, Count, Big, Ratio.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Price.ToString(System.Globalization.CultureInfo.InvariantCulture), Shade, When.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            Day.ToString("O", System.Globalization.CultureInfo.InvariantCulture), string.Join(",", Seeds), Config?.Model ?? "-", Config?.Trees ?? 0, Animal);
        Next(End);
    }

    [Step] public void End() => Console.WriteLine(Seen);
}

/// <summary>A CSV file included as text, parsed in a step with a delimiter parameter; the run keeps the file's content.</summary>
public partial class CsvFlow : FlowSpec
{
    [IncludeFile("data", Default = "data.csv", Help = "The rows")] public string Data { get; init; } = "";

    [Parameter] public string Delimiter { get; init; } = ",";

    public partial int Rows { get; set; }

    public partial double Total { get; set; }

    [Step]
    public void Start()
    {
        var lines = Data.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Rows = lines.Length - 1;
        Total = lines.Skip(1).Sum(l => double.Parse(l.Split(Delimiter)[1], System.Globalization.CultureInfo.InvariantCulture));
        Next(Check);
    }

    /// <summary>Reads the included text again in a later step: from the datastore, never the file.</summary>
    [Step] public void Check() { Rows += Data.Length > 0 ? 0 : 1000; Next(End); }

    [Step] public void End() { }
}

/// <summary>Included files as bytes and as a stream, and one without a path (empty).</summary>
public partial class FilesFlow : FlowSpec
{
    [IncludeFile] public byte[] Blob { get; init; } = [];

    [IncludeFile("stream")] public IncludedFile? Big { get; init; }

    [IncludeFile] public string Nothing { get; init; } = "";

    public partial long BlobLength { get; set; }

    public partial long StreamLength { get; set; }

    public partial string StreamName { get; set; }

    public partial int NothingLength { get; set; }

    [Step]
    public void Start()
    {
        BlobLength = Blob.Length;
        using (var stream = Big!.OpenRead())
        {
            var buffer = new byte[1 << 16];
            long total = 0;
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                total += read;
            }
            StreamLength = total;
        }
        StreamName = Big.Name ?? "";
        NothingLength = Nothing.Length;
        Next(End);
    }

    [Step] public void End() { }
}
