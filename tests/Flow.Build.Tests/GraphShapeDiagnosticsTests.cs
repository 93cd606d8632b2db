using Microsoft.CodeAnalysis;
using static Flow.Build.Tests.DiagnosticAssert;

namespace Flow.Build.Tests;

/// <summary>
/// The build errors of graph shapes (splits, joins, foreach, conditional steps and loops), each at its line, and the
/// valid shapes that build without any.
/// </summary>
public class GraphShapeDiagnosticsTests
{
    /// <summary>Asserts that the flow builds: no generator diagnostics, and the generated code compiles.</summary>
    private static void ShouldBeValid(string source) => ShouldCompileClean(source);

    private static string Message(IReadOnlyList<Diagnostic> diagnostics, string id) => diagnostics.Single(d => d.Id == id).GetMessage();

    // ---- FLOW0020: reserved names ----

    [Fact]
    public void A_step_or_artifact_with_a_reserved_name_fails_with_FLOW0020_at_its_declaration()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial string Input { get; set; }

                [Step]
                public void Start() => Next(Iteration);

                [Step]
                public void Iteration() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0020", "string Input"), ("FLOW0020", "void Iteration"));
        d.Select(x => x.GetMessage()).ShouldContain(m => m.Contains("Property Input") && m.Contains("reserves") && m.Contains("rename it"));
        d.Select(x => x.GetMessage()).ShouldContain(m => m.Contains("Step Iteration") && m.Contains("reserves"));
    }

    [Theory]
    [InlineData("public partial int Index { get; set; }", "Index")]
    [InlineData("public partial int ForeachStack { get; set; }", "ForeachStack")]
    [InlineData("[Parameter] public int Iteration { get; init; }", "Iteration")]
    [InlineData("public static readonly int MergeArtifacts = 1;", "MergeArtifacts")]
    public void Other_reserved_members_fail_with_FLOW0020(string member, string name)
    {
        var (file, diagnostics) = Diagnose($$"""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                {{member}}

                [Step]
                public void Start() => Next(End);

                [Step]
                public void End() { }
            }
            """);

        var reserved = diagnostics.Where(d => d.Id == "FLOW0020").ShouldHaveSingleItem(string.Join(Environment.NewLine, diagnostics));
        (reserved.Location.GetLineSpan().StartLinePosition.Line + 1).ShouldBe(file.LineOf(member));
        reserved.GetMessage().ShouldContain(name);
        reserved.GetMessage().ShouldContain("reserves");
    }

    // ---- FLOW0021: names differing only in case ----

    [Fact]
    public void Step_names_that_differ_only_in_case_fail_with_FLOW0021_at_the_second()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Train);

                [Step]
                public void Train() => Next(train);

                [Step]
                public void train() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0021", "void train"));
        var message = d[0].GetMessage();
        message.ShouldContain("Train and train");
        message.ShouldContain("differ only in case");
    }

    // ---- FLOW0022: splits and joins do not balance ----

    [Fact]
    public void A_join_of_unrelated_splits_fails_with_FLOW0022_at_the_join()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(A, B);

                [Step]
                public void A() => Next(C, D);

                [Step]
                public void B() => Next(Join);

                [Step]
                public void C() => Next(Join);

                [Step]
                public void D() => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0022", "void Join"));
        var message = d[0].GetMessage();
        message.ShouldContain("Join Join joins branches of unrelated splits");
        message.ShouldContain("Start and A");
    }

    [Fact]
    public void Branches_of_one_split_meeting_in_two_joins_fail_with_FLOW0022_at_the_split()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(A, B);

                [Step]
                public void A() => Next(JoinA);

                [Step]
                public void B() => Next(JoinB);

                [Step]
                public void JoinA(Inputs<TestFlow> inputs) => Next(After);

                [Step]
                public void JoinB(Inputs<TestFlow> inputs) => Next(After);

                [Step]
                public void After() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0022", "void Start"));
        var message = d[0].GetMessage();
        message.ShouldContain("branches of Start meet in two joins");
        message.ShouldContain("JoinA and JoinB");
    }

    [Fact]
    public void A_step_reached_inside_different_splits_fails_with_FLOW0022_at_the_step()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(A, B);

                [Step]
                public void A() => Next(Shared);

                [Step]
                public void B() => Next(C, D);

                [Step]
                public void C() => Next(Shared);

                [Step]
                public void D() => Next(JoinB);

                [Step]
                public void Shared() => Next(Join);

                [Step]
                public void JoinB(Inputs<TestFlow> inputs) => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0022", "void Shared"));
        var message = d[0].GetMessage();
        message.ShouldContain("Step Shared is reached inside different splits");
        message.ShouldContain("Start/A");
        message.ShouldContain("B/C");
    }

    [Fact]
    public void Two_foreach_steps_fanning_out_to_one_child_fail_with_FLOW0022_at_the_child()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial int[] Small { get; set; }

                public partial int[] Large { get; set; }

                [Step]
                public void Start()
                {
                    Small = [1];
                    Large = [10, 20];
                    if (Small.Length > 0)
                    {
                        Next(A);
                    }
                    else
                    {
                        Next(B);
                    }
                }

                [Step]
                public void A() => Next(Each, forEach: nameof(Small));

                [Step]
                public void B() => Next(Each, forEach: nameof(Large));

                [Step]
                public void Each(int item) => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0022", "void Each"));
        d[0].GetMessage().ShouldContain("Step Each is reached inside different splits");
    }

    // ---- FLOW0023: open split at End ----

    [Fact]
    public void Branches_that_reach_End_without_a_join_fail_with_FLOW0023_at_the_split()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(A, B);

                [Step]
                public void A() => Next(End);

                [Step]
                public void B() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0023", "void Start"));
        var message = d[0].GetMessage();
        message.ShouldContain("branches of Start reach End without meeting in a join");
        message.ShouldContain("Inputs<TestFlow>");
    }

    [Fact]
    public void A_foreach_that_reaches_End_without_a_join_fails_with_FLOW0023_at_the_foreach()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial int[] Items { get; set; }

                [Step]
                public void Start()
                {
                    Items = [1, 2, 3];
                    Next(Each, forEach: nameof(Items));
                }

                [Step]
                public void Each(int item) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0023", "void Start"));
        d[0].GetMessage().ShouldContain("branches of Start reach End");
    }

    [Fact]
    public void A_switch_path_that_leaves_a_branch_for_End_fails_with_FLOW0023_at_the_split()
    {
        ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Parameter]
                public bool Quit { get; init; }

                [Step]
                public void Start() => Next(A, B);

                [Step]
                public void A()
                {
                    if (Quit)
                    {
                        Next(End);
                    }
                    else
                    {
                        Next(Work);
                    }
                }

                [Step]
                public void Work() => Next(Join);

                [Step]
                public void B() => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0023", "void Start"));
    }

    // ---- FLOW0024: join without a split ----

    [Fact]
    public void A_join_with_no_open_split_fails_with_FLOW0024_at_the_join()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0024", "void Join"));
        var message = d[0].GetMessage();
        message.ShouldContain("Step Join takes Inputs");
        message.ShouldContain("no split or foreach is open");
    }

    [Fact]
    public void A_second_join_after_the_split_is_closed_fails_with_FLOW0024()
    {
        ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(A, B);

                [Step]
                public void A() => Next(Join);

                [Step]
                public void B() => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(Again);

                [Step]
                public void Again(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0024", "void Again"));
    }

    // ---- FLOW0025: split or foreach straight to its join ----

    [Fact]
    public void A_split_going_straight_to_its_join_fails_with_FLOW0025_at_the_split()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(A, Join);

                [Step]
                public void A() => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0025", "void Start"));
        var message = d[0].GetMessage();
        message.ShouldContain("Step Start goes straight from its split to the join Join");
        message.ShouldContain("add at least one step");
    }

    [Fact]
    public void A_foreach_going_straight_to_its_join_fails_with_FLOW0025_at_the_foreach()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial int[] Items { get; set; }

                [Step]
                public void Start() => Next(Fan);

                [Step]
                public void Fan()
                {
                    Items = [1, 2, 3];
                    Next(Join, forEach: nameof(Items));
                }

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0025", "void Fan"));
        d[0].GetMessage().ShouldContain("Step Fan goes straight from its foreach to the join Join");
    }

    // ---- FLOW0026: switch straight to a join ----

    [Fact]
    public void A_switch_going_straight_to_a_join_fails_with_FLOW0026_at_the_switch()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Parameter]
                public bool Fast { get; init; }

                [Step]
                public void Start() => Next(A, B);

                [Step]
                public void A()
                {
                    if (Fast)
                    {
                        Next(Join);
                    }
                    else
                    {
                        Next(Slow);
                    }
                }

                [Step]
                public void Slow() => Next(Join);

                [Step]
                public void B() => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0026", "void A"));
        var message = d[0].GetMessage();
        message.ShouldContain("Conditional step A goes straight to the join Join");
        message.ShouldContain("unconditional step");
    }

    // ---- FLOW0027: branches meet at a non-join ----

    [Fact]
    public void Branches_meeting_at_a_step_without_Inputs_fail_with_FLOW0027_at_that_step()
    {
        // The branches also reach End unjoined (FLOW0023); declaring Inputs on Meet fixes both.
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(A, B);

                [Step]
                public void A() => Next(Meet);

                [Step]
                public void B() => Next(Meet);

                [Step]
                public void Meet() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0027", "void Meet"), ("FLOW0023", "void Start"));
        var message = Message(d, "FLOW0027");
        message.ShouldContain("Branches A and B of Start meet at Meet, which is not a join");
        message.ShouldContain("Meet(Inputs<TestFlow> inputs)");
    }

    [Fact]
    public void Foreach_tasks_meeting_at_a_step_without_Inputs_are_not_mistaken_for_a_join()
    {
        // All tasks of a foreach are on one branch, so the step after the child is not a meeting point of branches:
        // the foreach is open at End instead.
        ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial int[] Items { get; set; }

                [Step]
                public void Start()
                {
                    Items = [1, 2];
                    Next(Each, forEach: nameof(Items));
                }

                [Step]
                public void Each(int item) => Next(After);

                [Step]
                public void After() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0023", "void Start"));
    }

    // ---- FLOW0028: Inputs that cannot be a join ----

    [Fact]
    public void Inputs_of_another_flow_fail_with_FLOW0028_at_the_step()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class OtherFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(End);

                [Step]
                public void End() { }
            }

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(A, B);

                [Step]
                public void A() => Next(Join);

                [Step]
                public void B() => Next(Join);

                [Step]
                public void Join(Inputs<OtherFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0028", "void Join"));
        var message = d[0].GetMessage();
        message.ShouldContain("Inputs<OtherFlow>");
        message.ShouldContain("a join of TestFlow takes Inputs<TestFlow>");
    }

    [Fact]
    public void Inputs_on_Start_fail_with_FLOW0028_at_Start()
    {
        // Start taking Inputs is also a join with no open split (FLOW0024).
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0028", "void Start"), ("FLOW0024", "void Start"));
        Message(d, "FLOW0028").ShouldContain("Start has no inputs");
    }

    // ---- FLOW0029: foreach item type ----

    [Fact]
    public void A_foreach_item_parameter_of_another_type_fails_with_FLOW0029_at_the_parameter()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial int[] Items { get; set; }

                [Step]
                public void Start()
                {
                    Items = [1, 2, 3];
                    Next(Each, forEach: nameof(Items));
                }

                [Step]
                public void Each(string item) => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0029", "string item"));
        var message = d[0].GetMessage();
        message.ShouldContain("Step Each receives the items of Start's Items");
        message.ShouldContain("whose elements are int, but its parameter is string");
        message.ShouldContain("'Each(int item)'");
    }

    [Fact]
    public void A_foreach_item_of_a_list_of_records_must_be_that_record()
    {
        var d = ShouldFailWith("""
            using System.Collections.Generic;
            using Flow.Sdk;

            namespace Demo;

            public sealed record Shard(int Id);

            public partial class TestFlow : FlowSpec
            {
                public partial List<Shard> Shards { get; set; }

                [Step]
                public void Start()
                {
                    Shards = [new Shard(1)];
                    Next(Each, forEach: nameof(Shards));
                }

                [Step]
                public void Each(int shard) => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0029", "int shard"));
        d[0].GetMessage().ShouldContain("whose elements are Demo.Shard, but its parameter is int");
    }

    [Fact]
    public void A_nullable_item_parameter_for_non_nullable_elements_fails_with_FLOW0029()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial int[] Items { get; set; }

                [Step]
                public void Start()
                {
                    Items = [1];
                    Next(Each, forEach: nameof(Items));
                }

                [Step]
                public void Each(int? item) => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0029", "int? item"));
        d[0].GetMessage().ShouldContain("whose elements are int, but its parameter is int?");
    }

    // ---- FLOW0008: cycles ----

    [Fact]
    public void A_linear_step_naming_itself_fails_with_FLOW0008()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Again);

                [Step]
                public void Again() => Next(Again);

                [Step]
                public void End() { }
            }
            """, ("FLOW0008", "void Again"), ("FLOW0007", "void End"));
        Message(d, "FLOW0008").ShouldContain("Again -> Again");
    }

    [Fact]
    public void A_switch_looping_back_through_another_step_fails_with_FLOW0008()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Parameter]
                public bool Done { get; init; }

                [Step]
                public void Start() => Next(Check);

                [Step]
                public void Check()
                {
                    if (Done)
                    {
                        Next(End);
                    }
                    else
                    {
                        Next(Work);
                    }
                }

                [Step]
                public void Work() => Next(Check);

                [Step]
                public void End() { }
            }
            """, ("FLOW0008", "void Work"));
        var message = d[0].GetMessage();
        message.ShouldContain("Check -> Work -> Check");
        message.ShouldContain("except a conditional step that targets itself");
    }

    [Fact]
    public void A_cycle_through_a_split_fails_with_FLOW0008()
    {
        ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Fork);

                [Step]
                public void Fork() => Next(A, B);

                [Step]
                public void A() => Next(Join);

                [Step]
                public void B() => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(Fork);

                [Step]
                public void End() { }
            }
            """, ("FLOW0008", "void Join"), ("FLOW0007", "void End"));
    }

    // ---- FLOW0009: unsupported Next forms ----

    [Fact]
    public void A_conditional_Next_naming_two_targets_fails_with_FLOW0009_at_the_call()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Parameter]
                public bool Wide { get; init; }

                [Step]
                public void Start()
                {
                    if (Wide)
                    {
                        Next(A, B);
                    }
                    else
                    {
                        Next(End);
                    }
                }

                [Step]
                public void A() => Next(End);

                [Step]
                public void B() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0009", "Next(A, B)"));
        var message = d[0].GetMessage();
        message.ShouldContain("conditional step");
        message.ShouldContain("each Next call names exactly one step");
    }

    [Fact]
    public void A_conditional_Next_with_forEach_fails_with_FLOW0009_at_the_call()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial int[] Items { get; set; }

                [Step]
                public void Start()
                {
                    Items = [1];
                    if (Items.Length > 0)
                    {
                        Next(Each, forEach: nameof(Items)); // fan
                    }
                    else
                    {
                        Next(End);
                    }
                }

                [Step]
                public void Each() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0009", "// fan"));
        d[0].GetMessage().ShouldContain("without forEach");
    }

    [Fact]
    public void A_forEach_over_an_int_fails_with_FLOW0009_at_the_argument()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial int Count { get; set; }

                [Step]
                public void Start()
                {
                    Count = 3;
                    Next(Each, forEach: nameof(Count));
                }

                [Step]
                public void Each() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0009", "forEach: nameof(Count)"));
        var message = d[0].GetMessage();
        message.ShouldContain("nameof(Count)");
        message.ShouldContain("int");
        message.ShouldContain("not a collection");
    }

    [Fact]
    public void A_forEach_over_a_string_fails_with_FLOW0009()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial string Text { get; set; }

                [Step]
                public void Start()
                {
                    Text = "abc";
                    Next(Each, forEach: nameof(Text));
                }

                [Step]
                public void Each() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0009", "forEach: nameof(Text)"));
        d[0].GetMessage().ShouldContain("not a collection");
    }

    [Fact]
    public void A_split_naming_one_step_twice_fails_with_FLOW0009_at_the_call()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start()
                {
                    Next(A, A);
                }

                [Step]
                public void A() => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0009", "Next(A, A)"));
        d[0].GetMessage().ShouldContain("names A twice in one split");
    }

    // ---- FLOW0010: step parameters ----

    [Fact]
    public void A_parameter_on_a_step_no_foreach_targets_fails_with_FLOW0010_at_the_parameter()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Go);

                [Step]
                public void Go(int size) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0010", "int size"));
        var message = d[0].GetMessage();
        message.ShouldContain("Step Go takes a parameter (int size)");
        message.ShouldContain("no foreach targets it");
    }

    [Fact]
    public void A_step_with_two_parameters_fails_with_FLOW0010_at_the_step()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial int[] Items { get; set; }

                [Step]
                public void Start()
                {
                    Items = [1, 2];
                    Next(Each, forEach: nameof(Items));
                }

                [Step]
                public void Each(int item, int other) => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0010", "void Each"));
        d[0].GetMessage().ShouldContain("takes 2 parameters");
    }

    [Fact]
    public void A_join_with_an_extra_parameter_fails_with_FLOW0010()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(A, B);

                [Step]
                public void A() => Next(Join);

                [Step]
                public void B() => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs, int extra) => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0010", "void Join"));
        d[0].GetMessage().ShouldContain("takes 2 parameters");
    }

    // ---- Valid shapes build without diagnostics ----

    [Fact]
    public void A_split_and_its_join_are_valid() => ShouldBeValid("""
        using System.Linq;
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int Score { get; set; }

            [Step]
            public void Start() => Next(TrainA, TrainB);

            [Step]
            public void TrainA()
            {
                Score = 1;
                Next(Join);
            }

            [Step]
            public void TrainB()
            {
                Score = 2;
                Next(Join);
            }

            [Step]
            public void Join(Inputs<TestFlow> inputs)
            {
                Score = inputs.Max(i => i.Score) + inputs[nameof(TrainA)].Score;
                Next(End);
            }

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void Splits_nested_three_levels_deep_are_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            [Step]
            public void Start() => Next(A, B);

            [Step]
            public void A() => Next(A1, A2);

            [Step]
            public void A1() => Next(A1x, A1y, A1z);

            [Step]
            public void A1x() => Next(JoinA1);

            [Step]
            public void A1y() => Next(JoinA1);

            [Step]
            public void A1z() => Next(JoinA1);

            [Step]
            public void JoinA1(Inputs<TestFlow> inputs) => Next(JoinA);

            [Step]
            public void A2() => Next(JoinA);

            [Step]
            public void JoinA(Inputs<TestFlow> inputs) => Next(Join);

            [Step]
            public void B() => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_foreach_with_an_item_parameter_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int[] Items { get; set; }

            public partial int Square { get; set; }

            [Step]
            public void Start()
            {
                Items = [1, 2, 3];
                Next(Each, forEach: nameof(Items));
            }

            [Step]
            public void Each(int item)
            {
                Square = item * item;
                Next(Join);
            }

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_foreach_child_without_an_item_parameter_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int[] Items { get; set; }

            [Step]
            public void Start()
            {
                Items = [1, 2, 3];
                Next(Each, forEach: nameof(Items));
            }

            [Step]
            public void Each() => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_foreach_with_two_inner_steps_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial string[] Words { get; set; }

            [Step]
            public void Start()
            {
                Words = ["a", "b"];
                Next(Each, forEach: nameof(Words));
            }

            [Step]
            public void Each(string word) => Next(Second);

            [Step]
            public void Second() => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_nested_foreach_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int[][] Grid { get; set; }

            public partial int[] Cells { get; set; }

            [Step]
            public void Start()
            {
                Grid = [[1, 2], [3]];
                Next(Row, forEach: nameof(Grid));
            }

            [Step]
            public void Row(int[] row)
            {
                Cells = row;
                Next(Cell, forEach: nameof(Cells));
            }

            [Step]
            public void Cell(int cell) => Next(JoinCells);

            [Step]
            public void JoinCells(Inputs<TestFlow> inputs) => Next(JoinRows);

            [Step]
            public void JoinRows(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_switch_of_three_cases_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            [Parameter]
            public string Mode { get; init; } = "a";

            [Step]
            public void Start()
            {
                switch (Mode)
                {
                    case "a":
                        Next(A);
                        break;
                    case "b":
                        Next(B);
                        break;
                    default:
                        Next(C);
                        break;
                }
            }

            [Step]
            public void A() => Next(End);

            [Step]
            public void B() => Next(End);

            [Step]
            public void C() => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void Paths_of_a_switch_meeting_at_a_step_without_Inputs_are_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            [Parameter]
            public bool Fast { get; init; }

            [Step]
            public void Start()
            {
                if (Fast)
                {
                    Next(Quick);
                }
                else
                {
                    Next(Slow);
                }
            }

            [Step]
            public void Quick() => Next(Meet);

            [Step]
            public void Slow() => Next(Meet);

            [Step]
            public void Meet() => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_switch_inside_a_branch_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            [Parameter]
            public bool Fast { get; init; }

            [Step]
            public void Start() => Next(A, B);

            [Step]
            public void A()
            {
                if (Fast)
                {
                    Next(Quick);
                }
                else
                {
                    Next(Slow);
                }
            }

            [Step]
            public void Quick() => Next(Join);

            [Step]
            public void Slow() => Next(Join);

            [Step]
            public void B() => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_switch_inside_a_foreach_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int[] Items { get; set; }

            [Step]
            public void Start()
            {
                Items = [1, 5];
                Next(Each, forEach: nameof(Items));
            }

            [Step]
            public void Each(int item)
            {
                if (item > 2)
                {
                    Next(Big);
                }
                else
                {
                    Next(Small);
                }
            }

            [Step]
            public void Big() => Next(Join);

            [Step]
            public void Small() => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_branch_inside_a_switch_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            [Parameter]
            public bool Wide { get; init; }

            [Step]
            public void Start()
            {
                if (Wide)
                {
                    Next(Fork);
                }
                else
                {
                    Next(Plain);
                }
            }

            [Step]
            public void Fork() => Next(A, B);

            [Step]
            public void A() => Next(Join);

            [Step]
            public void B() => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(After);

            [Step]
            public void Plain() => Next(After);

            [Step]
            public void After() => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_foreach_inside_a_switch_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            [Parameter]
            public bool Fan { get; init; }

            public partial int[] Items { get; set; }

            [Step]
            public void Start()
            {
                Items = [1, 2];
                if (Fan)
                {
                    Next(Spread);
                }
                else
                {
                    Next(End);
                }
            }

            [Step]
            public void Spread() => Next(Each, forEach: nameof(Items));

            [Step]
            public void Each(int item) => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_self_looping_switch_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int Count { get; set; }

            [Step]
            public void Start() => Next(Loop);

            [Step]
            public void Loop()
            {
                Count = Iteration;
                if (Iteration < 3)
                {
                    Next(Loop);
                }
                else
                {
                    Next(End);
                }
            }

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_helper_method_or_override_named_like_an_object_member_is_fine() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public override string ToString() => "a flow";

            [Step]
            public void Start() => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_self_looping_Start_fails_with_FLOW0014_because_Start_has_no_incoming_edges() => ShouldFailWith("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            [Step]
            public void Start()
            {
                if (Iteration < 3)
                {
                    Next(Start); // the loop
                }
                else
                {
                    Next(End);
                }
            }

            [Step]
            public void End() { }
        }
        """, ("FLOW0014", "void Start"));

    [Fact]
    public void A_self_loop_inside_a_foreach_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int[] Items { get; set; }

            [Step]
            public void Start()
            {
                Items = [1, 2];
                Next(Each, forEach: nameof(Items));
            }

            [Step]
            public void Each(int item)
            {
                if (Iteration < item)
                {
                    Next(Each);
                }
                else
                {
                    Next(After);
                }
            }

            [Step]
            public void After() => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_foreach_inside_a_branch_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int[] Items { get; set; }

            [Step]
            public void Start()
            {
                Items = [1, 2];
                Next(A, B);
            }

            [Step]
            public void A() => Next(Each, forEach: nameof(Items));

            [Step]
            public void Each(int item) => Next(JoinEach);

            [Step]
            public void JoinEach(Inputs<TestFlow> inputs) => Next(Join);

            [Step]
            public void B() => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_branch_inside_a_foreach_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int[] Items { get; set; }

            [Step]
            public void Start()
            {
                Items = [1, 2];
                Next(Each, forEach: nameof(Items));
            }

            [Step]
            public void Each(int item) => Next(X, Y);

            [Step]
            public void X() => Next(JoinXY);

            [Step]
            public void Y() => Next(JoinXY);

            [Step]
            public void JoinXY(Inputs<TestFlow> inputs) => Next(JoinEach);

            [Step]
            public void JoinEach(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_join_that_splits_again_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            [Step]
            public void Start() => Next(A, B);

            [Step]
            public void A() => Next(Join1);

            [Step]
            public void B() => Next(Join1);

            [Step]
            public void Join1(Inputs<TestFlow> inputs) => Next(C, D);

            [Step]
            public void C() => Next(Join2);

            [Step]
            public void D() => Next(Join2);

            [Step]
            public void Join2(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void MergeArtifacts_in_a_join_is_valid() => ShouldBeValid("""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial string Data { get; set; }

            public partial int Score { get; set; }

            [Step]
            public void Start()
            {
                Data = "shared";
                Next(A, B);
            }

            [Step]
            public void A()
            {
                Score = 1;
                Next(Join);
            }

            [Step]
            public void B()
            {
                Score = 2;
                Next(Join);
            }

            [Step]
            public void Join(Inputs<TestFlow> inputs)
            {
                MergeArtifacts(inputs, exclude: [nameof(Score)]);
                Score = inputs[0].Score + inputs[1].Score;
                Next(End);
            }

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void A_forEach_over_a_List_parameter_is_valid() => ShouldBeValid("""
        using System.Collections.Generic;
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            [Parameter]
            public List<int> Sizes { get; init; } = [1, 2];

            [Step]
            public void Start() => Next(Each, forEach: nameof(Sizes));

            [Step]
            public void Each(int size) => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """);

    [Fact]
    public void An_async_join_and_an_async_foreach_child_are_valid() => ShouldBeValid("""
        using System.Threading.Tasks;
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int[] Items { get; set; }

            [Step]
            public void Start()
            {
                Items = [1, 2];
                Next(Each, forEach: nameof(Items));
            }

            [Step]
            public async Task Each(int item)
            {
                await Task.Yield();
                Next(Join);
            }

            [Step]
            public async Task Join(Inputs<TestFlow> inputs)
            {
                await Task.Yield();
                Next(End);
            }

            [Step]
            public void End() { }
        }
        """);
}
