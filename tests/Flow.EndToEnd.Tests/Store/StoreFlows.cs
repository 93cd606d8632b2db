using System.Text;
using Flow.Sdk;

[assembly: ArtifactSerializer(typeof(TinyModelSerializer))]

/// <summary>A model with no public state: only its own serializer can store it.</summary>
public sealed class TinyModel
{
    private readonly double[] _weights;

    public TinyModel(string kind, double[] weights)
    {
        Kind = kind;
        _weights = weights;
    }

    public string Kind { get; }

    public double Predict(double x) => _weights.Select((w, i) => w * Math.Pow(x, i)).Sum();

    /// <summary>A method, not a property: JSON would store only Kind and lose the weights.</summary>
    public double[] ExportWeights() => (double[])_weights.Clone();
}

/// <summary>Stores a TinyModel as its kind and weights, in its own binary format.</summary>
public sealed class TinyModelSerializer : IArtifactSerializer<TinyModel>
{
    public string Name => "tiny-model-v1";

    public void Write(TinyModel value, Stream destination)
    {
        using var writer = new BinaryWriter(destination, Encoding.UTF8, leaveOpen: true);
        writer.Write(value.Kind);
        var weights = value.ExportWeights();
        writer.Write(weights.Length);
        foreach (var w in weights)
        {
            writer.Write(w);
        }
    }

    public TinyModel Read(Stream source)
    {
        using var reader = new BinaryReader(source, Encoding.UTF8, leaveOpen: true);
        var kind = reader.ReadString();
        var weights = new double[reader.ReadInt32()];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = reader.ReadDouble();
        }
        return new TinyModel(kind, weights);
    }
}

/// <summary>Artifacts beyond JSON: a user-serialized model, a stream, a file, a large array; and a per-run stamp.</summary>
public partial class StoreFlow : FlowSpec
{
    public partial TinyModel Model { get; set; }

    public partial Stream Blob { get; set; }

    public partial IncludedFile Report { get; set; }

    public partial double[] Series { get; set; }

    public partial string Stamp { get; set; }

    public partial string Checked { get; set; }

    [Step]
    public void Start()
    {
        Model = new TinyModel("quadratic", [1, 2, 3]);
        var bytes = new byte[5 << 20];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i * 7 % 251);
        }
        Blob = new MemoryStream(bytes);
        File.WriteAllText("report.txt", "accuracy 0.93\n");
        Report = IncludedFile.FromFile("report.txt");
        Series = [.. Enumerable.Range(0, 2_000_000).Select(i => i / 3.0)];
        Stamp = "run " + Current.RunId;
        Next(Use);
    }

    [Step]
    public void Use()
    {
        using var blob = Blob;
        var sum = 0L;
        var length = 0L;
        var buffer = new byte[81920];
        int read;
        while ((read = blob.Read(buffer)) > 0)
        {
            length += read;
            for (var i = 0; i < read; i++)
            {
                sum += buffer[i];
            }
        }
        Checked = $"{Model.Kind} {Model.Predict(2)} | blob {length} {sum} | {Report.ReadAllText().Trim()} ({Report.Length} bytes) | series {Series.Length} {Series[^1]}";
        Next(End);
    }

    [Step] public void End() => Console.WriteLine(Checked);
}

/// <summary>A foreach of Count items; several of these run at once into one datastore in the concurrency test.</summary>
public partial class StressFlow : FlowSpec
{
    [Parameter] public int Count { get; init; } = 200;

    [Parameter] public int Salt { get; init; }

    public partial int[] Items { get; set; }

    public partial long Square { get; set; }

    public partial string Label { get; set; }

    public partial long Total { get; set; }

    [Step] public void Start() { Items = [.. Enumerable.Range(0, Count)]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(int item) { Square = ((long)item * item) + Salt; Label = $"item {item} salt {Salt}"; Next(Join); }

    [Step] public void Join(Inputs<StressFlow> inputs) { Total = inputs.Sum(i => i.Square); Next(End); }

    [Step] public void End() { }
}

/// <summary>The same shape under another name: a different flow writing into the same datastore.</summary>
public partial class OtherStressFlow : FlowSpec
{
    [Parameter] public int Count { get; init; } = 200;

    [Parameter] public int Salt { get; init; }

    public partial int[] Items { get; set; }

    public partial long Square { get; set; }

    public partial long Total { get; set; }

    [Step] public void Start() { Items = [.. Enumerable.Range(0, Count)]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(int item) { Square = ((long)item * item) + Salt; Next(Join); }

    [Step] public void Join(Inputs<OtherStressFlow> inputs) { Total = inputs.Sum(i => i.Square); Next(End); }

    [Step] public void End() { }
}

/// <summary>Produces a value for ConsumerFlow to read through the client.</summary>
public partial class ProducerFlow : FlowSpec
{
    [Parameter] public int Seed { get; init; } = 6;

    public partial int Value { get; set; }

    public partial string Message { get; set; }

    [Step] public void Start() { Value = Seed * 7; Message = "made by " + Current.RunId; Next(End); }

    [Step] public void End() { }
}

/// <summary>Reads the latest successful ProducerFlow run from a step: untyped, and typed as the producer's flow class.</summary>
public partial class ConsumerFlow : FlowSpec
{
    public partial string Seen { get; set; }

    [Step]
    public void Start()
    {
        var run = FlowClient.GetFlow("ProducerFlow").LatestSuccessfulRun ?? throw new InvalidOperationException("no producer run");
        var producer = run["Start"].Task.As<ProducerFlow>();
        Seen = $"{run.Pathspec} {producer.Value} {producer.Seed} {producer.Message} {run["End"].Task.Data<int>("Value")}";
        Next(End);
    }

    [Step] public void End() => Console.WriteLine(Seen);
}
