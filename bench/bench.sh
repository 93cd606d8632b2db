#!/usr/bin/env bash
# Benchmarks the user's loop on the real packed product: the tool and template are packed from this checkout
# with a fresh version, installed into a throwaway tool path and template hive, and a template project is timed.
# Prints the median, minimum and maximum wall time of N repetitions (default 11) of each case.
#   bash bench/bench.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
n=${1:-11}
work=$(mktemp -d)
# BENCH_KEEP=1 keeps the folder (tool, feed, project) for a closer look.
trap 'dotnet build-server shutdown >/dev/null 2>&1 || true; if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi' EXIT
version="0.1.0-bench.$(date -u +%Y%m%d%H%M%S)"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# Packs build into their own artifacts folder, so the repository's obj/ is left as it is.
for project in src/Flow.Sdk/Flow.Sdk.csproj src/dotnet-flow/dotnet-flow.csproj templates/Flow.Templates.csproj; do
  MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 dotnet pack "$project" -c Release -nr:false -v:q -nologo \
    "-p:Version=$version" "-p:PackageOutputPath=$work/feed/" "-p:ArtifactsPath=$work/artifacts" >/dev/null
done
# The product under test restores into a throwaway package cache, so no earlier copy of a package is used.
export NUGET_PACKAGES="$work/nuget"
# Outside the repository: its nuget.config maps sources, which --add-source cannot be combined with.
(cd "$work" && dotnet tool install dotnet-flow --tool-path "$work/tools" --add-source "$work/feed" --version "$version" >/dev/null)
dotnet new install "$work/feed/Flow.Templates.$version.nupkg" --debug:custom-hive "$work/hive" >/dev/null
dotnet new flow -n Bench -o "$work/Bench" --debug:custom-hive "$work/hive" >/dev/null
flow="$work/tools/dotnet-flow"
# A second project for the scheduler: a foreach of --count trivial tasks between Start and a join.
dotnet new flow -n Wide -o "$work/Wide" --debug:custom-hive "$work/hive" >/dev/null
rm "$work/Wide/HelloFlow.cs"
cat > "$work/Wide/WideFlow.cs" <<'EOF'
using Flow.Sdk;

public partial class WideFlow : FlowSpec
{
    [Parameter] public int Count { get; init; } = 100;

    public partial int[] Items { get; set; }

    public partial long Square { get; set; }

    public partial long Total { get; set; }

    [Step] public void Start() { Items = [.. Enumerable.Range(0, Count)]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(int item) { Square = (long)item * item; Next(Join); }

    [Step] public void Join(Inputs<WideFlow> inputs) { Total = inputs.Sum(i => i.Square); Next(End); }

    [Step] public void End() { }
}
EOF
# A third: five steps failing at the fourth, with an artifact of --mb MiB made by Start, for resume.
dotnet new flow -n Resume -o "$work/Resume" --debug:custom-hive "$work/hive" >/dev/null
rm "$work/Resume/HelloFlow.cs"
cat > "$work/Resume/ResumeFlow.cs" <<'EOF'
using Flow.Sdk;

public partial class ResumeFlow : FlowSpec
{
    [Parameter] public int Mb { get; init; }

    public partial byte[] Data { get; set; }

    public partial int Steps { get; set; }

    [Step] public void Start() { Data = new byte[Mb << 20]; Steps = 1; Next(Prepare); }

    [Step] public void Prepare() { Steps += 1; Next(Train); }

    [Step] public void Train() { Steps += 1; Next(Evaluate); }

    [Step]
    public void Evaluate()
    {
        if (Environment.GetEnvironmentVariable("FAIL") == "1")
        {
            throw new InvalidOperationException("evaluation failed");
        }
        Steps += 1;
        Next(End);
    }

    [Step] public void End() { }
}
EOF
cd "$work/Bench"

# The edit-run loop uses the build servers, as the tool does for users (FLOW_BUILD_SERVERS unset).
unset MSBUILDDISABLENODEREUSE DOTNET_CLI_USE_MSBUILD_SERVER FLOW_BUILD_SERVERS
"$flow" run >/dev/null            # first build and run: not measured
"$flow" run >/dev/null

measure() { # name, then the command; REPS=k overrides N for one case
  local name=$1; shift
  local times=()
  for _ in $(seq "${REPS:-$n}"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v name="$name" '{ t[NR] = $1 } END { printf "%-34s median %5d ms   min %5d ms   max %5d ms   (n=%d)\n", name, t[int((NR + 1) / 2)], t[1], t[NR], NR }'
}

edit_and_run() {
  # A one-line edit of a step, alternating between two texts so every repetition changes the code.
  if grep -q 'Hello, {Name}!' HelloFlow.cs; then sed -i 's/Hello, {Name}!/Howdy, {Name}!/' HelloFlow.cs; else sed -i 's/Howdy, {Name}!/Hello, {Name}!/' HelloFlow.cs; fi
  "$flow" run
}

echo "dotnet flow $version, $(nproc) cores, $(date -u +%Y-%m-%d)"
measure "run, unchanged template flow" "$flow" run
measure "show" "$flow" show
measure "dump latest/Hello" "$flow" dump latest/Hello
measure "dump latest/End --json" "$flow" dump latest/End --json
measure "run after a one-line edit" edit_and_run

# The scheduler: a foreach of 100 and of 1,000 trivial tasks, end to end (tool start, run, start and join).
cd "$work/Wide"
"$flow" run >/dev/null
measure "foreach of 100 (end to end)" "$flow" run --count 100
REPS=5 measure "foreach of 1,000 (end to end)" "$flow" run --count 1000 --max-num-splits 1000
# The orchestrator's peak memory (VmHWM) for the foreach of 1,000: the flow executable started directly, sampled
# until it exits; workers are separate processes and not counted.
app=$(ls bin/Debug/net10.0/Wide.dll)
dotnet exec "$app" run --count 1000 --max-num-splits 1000 >/dev/null &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
  if [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ]; then peak=$hwm; fi
  sleep 0.05
done
wait "$pid"
printf '%-34s %5d MiB\n' "orchestrator peak, foreach 1,000" $((peak / 1024))

# Resume of a 5-step flow failing at step 4, the code unchanged since the last build: three tasks cloned, two run.
# Each repetition resumes the same failed origin. With a 1 GiB artifact upstream the clones cost the same.
cd "$work/Resume"
for mb in 0 1024; do
  origin_file=$(mktemp)
  FAIL=1 "$flow" run --mb "$mb" --run-id-file "$origin_file" >/dev/null 2>&1 || true
  measure "resume at step 4 of 5 (${mb} MiB upstream)" "$flow" resume --origin-run-id "$(cat "$origin_file")"
done
