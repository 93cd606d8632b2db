#!/usr/bin/env bash
# Benchmarks the user's loop on the real packed product: the tool and template are packed from this checkout
# with a fresh version, installed into a throwaway tool path and template hive, and a template project is timed.
# Prints the median, minimum and maximum wall time of N repetitions (default 11) of each case.
#   bash bench/bench.sh [N]
# BENCH_CASES=loop,foreach,resume,big,persist,client,ui,interrupt,slurm (comma-separated) runs only those groups; default all.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
n=${1:-11}
cases=",${BENCH_CASES:-loop,foreach,resume,big,persist,client,ui,interrupt,slurm},"
want() { [[ "$cases" == *",$1,"* ]]; }
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
# The browser timing (ui) uses the Node.js and playwright-core of the Microsoft.Playwright package the tests restored.
user_packages=$(dotnet nuget locals global-packages -l | sed 's/^global-packages: //')
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

    [Parameter] public int SleepMs { get; init; }

    public partial int[] Items { get; set; }

    public partial long Square { get; set; }

    public partial long Total { get; set; }

    [Step] public void Start() { Items = [.. Enumerable.Range(0, Count)]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(int item) { if (SleepMs > 0) { Thread.Sleep(SleepMs); } Square = (long)item * item; Next(Join); }

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
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v name="$name" '{ t[NR] = $1 } END { printf "%-34s median %5d ms   min %5d ms   max %5d ms   (n=%d)\n", name, t[int((NR + 1) / 2)], t[1], t[NR], NR }'
}

edit_and_run() {
  # A one-line edit of a step, to a text never built before: every repetition builds, stores and materializes new
  # code, as a user's edit does (alternating two texts would find the code of the last but one run materialized).
  sed -i -E "s/(Hello|Howdy)[^,]*, \{Name\}!/Howdy $(date +%s%N), {Name}!/" HelloFlow.cs
  "$flow" run
}

echo "dotnet flow $version, $(nproc) cores, $(date -u +%Y-%m-%d)"
if want loop; then
measure "run, unchanged template flow" "$flow" run
measure "show" "$flow" show
measure "dump latest/Hello" "$flow" dump latest/Hello
measure "dump latest/End --json" "$flow" dump latest/End --json
measure "logs latest/Hello" "$flow" logs latest/Hello
measure "run after a one-line edit" edit_and_run
# As users type them: the dotnet CLI finds the tool through the project's tool manifest (.config/dotnet-tools.json).
measure "as typed: dotnet flow run, unchanged" dotnet flow run
measure "as typed: dotnet flow show" dotnet flow show
measure "as typed: dotnet flow dump latest/Hello" dotnet flow dump latest/Hello
measure "as typed: dotnet flow logs latest/Hello" dotnet flow logs latest/Hello
# What the CLI costs on each call when a user has not opted out of telemetry (this script opts out above).
DOTNET_CLI_TELEMETRY_OPTOUT=0 measure "as typed, telemetry on: show" dotnet flow show
# Without the manifest the CLI evaluates the project (its resolver of old project tools) before finding the global tool.
mv .config .config-off
measure "as typed, no tool manifest: show" env PATH="$work/tools:$PATH" dotnet flow show
mv .config-off .config
fi

# The scheduler: a foreach of 100 and of 1,000 trivial tasks, end to end (tool start, run, start and join).
cd "$work/Wide"
if want foreach; then
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
fi

# Resume of a 5-step flow failing at step 4, the code unchanged since the last build: three tasks cloned, two run.
# Each repetition resumes the same failed origin. With a 1 GiB artifact upstream the clones cost the same.
cd "$work/Resume"
want resume && for mb in 0 1024; do
  origin_file=$(mktemp)
  FAIL=1 "$flow" run --mb "$mb" --run-id-file "$origin_file" >/dev/null 2>&1 || true
  measure "resume at step 4 of 5 (${mb} MiB upstream)" "$flow" resume --origin-run-id "$(cat "$origin_file")"
done

# The datastore at scale (#6): a 256 MiB byte[] artifact, random and repetitive text, made by Start and stored.
# Wall time of the whole run, the peak resident memory of its largest process (GNU time's %M: the maximum over the
# orchestrator and its workers), the bytes the blob takes on disk, and loading it back in a client.
dotnet new flow -n Big -o "$work/Big" --debug:custom-hive "$work/hive" >/dev/null
rm "$work/Big/HelloFlow.cs"
cat > "$work/Big/BigFlow.cs" <<'EOF'
using System.Text;
using Flow.Sdk;

public partial class BigFlow : FlowSpec
{
    [Parameter] public int Mb { get; init; } = 256;

    [Parameter] public string Kind { get; init; } = "random";

    public partial byte[] Data { get; set; }

    [Step]
    public void Start()
    {
        var data = GC.AllocateUninitializedArray<byte>(Mb << 20);
        if (Kind == "random")
        {
            Random.Shared.NextBytes(data);
        }
        else
        {
            // Repetitive text: one line over and over.
            var line = Encoding.ASCII.GetBytes("the quick brown fox jumps over the lazy dog 0123456789\n");
            for (var i = 0; i < data.Length; i += line.Length)
            {
                line.AsSpan(0, Math.Min(line.Length, data.Length - i)).CopyTo(data.AsSpan(i));
            }
        }
        Data = data;
        Next(End);
    }

    [Step] public void End() { }
}
EOF
mkdir -p "$work/Load"
cat > "$work/Load/Load.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup><PackageReference Include="Flow.Sdk" Version="$version" /></ItemGroup>
</Project>
EOF
cp "$work/Big/nuget.config" "$work/Load/" 2>/dev/null || true
cat > "$work/Load/Program.cs" <<'EOF'
using System.Diagnostics;
using Flow.Sdk;

// Loads the newest BigFlow run's Data in a fresh process; prints the milliseconds from the first client call.
var clock = Stopwatch.StartNew();
FlowClient.Namespace = null;
var task = FlowClient.GetFlow("BigFlow").LatestRun!["Start"].Task;
var data = task.Data<byte[]>("Data");
Console.WriteLine($"{clock.ElapsedMilliseconds} {data.Length} {task["Data"].Sha}");
EOF
cd "$work/Big"
"$flow" run --mb 1 >/dev/null
(cd "$work/Load" && dotnet build -c Release -nr:false -v:q -nologo "-p:RestoreAdditionalProjectSources=$work/feed" >/dev/null)
loader="$work/Load/bin/Release/net10.0/Load.dll"
want big && for kind in random text; do
  measure "256 MiB $kind artifact: run" "$flow" run --kind "$kind"
  peaks=()
  for _ in 1 2 3; do
    peaks+=($(/usr/bin/time -f %M "$flow" run --kind "$kind" 2>&1 >/dev/null | tail -1))
  done
  peak=$(printf '%s\n' "${peaks[@]}" | sort -n | sed -n 2p)
  sha=$(dotnet exec "$loader" | cut -d' ' -f3)
  size=$(stat -c %s ".flow/blobs/${sha:0:2}/$sha")
  printf '%-34s peak of the largest process %d MiB (median of 3), blob on disk %s bytes\n' "256 MiB $kind artifact" $((peak / 1024)) "$size"
  loads=()
  for _ in $(seq "$n"); do loads+=($(cd "$work/Big" && dotnet exec "$loader" | cut -d' ' -f1)); done
  printf '%s\n' "${loads[@]}" | sort -n | awk -v name="256 MiB $kind: client load (in process)" '{ t[NR] = $1 } END { printf "%-34s median %5d ms   min %5d ms   max %5d ms   (n=%d)\n", name, t[int((NR + 1) / 2)], t[1], t[NR], NR }'
  REPS=5 measure "256 MiB $kind: client process" dotnet exec "$loader"
done

# Persisting a 1 GiB random artifact: the task reports the time it took to store it (flow: stored artifact ... in
# X s); compared with zstd -1 plus sha256sum on the same bytes (the stored blob, raw), in the same run.
if want persist; then
for _ in 1 2 3; do
  "$flow" run --mb 1024 >/dev/null
  "$flow" logs latest/Start --stderr | grep -o 'in [0-9.]* s' | awk '{ print $2 }'
done | sort -n | sed -n 2p > "$work/persist"
sha=$(dotnet exec "$loader" | cut -d' ' -f3)
blob=".flow/blobs/${sha:0:2}/$sha"
tail -c +17 "$blob" > "$work/raw1g"
ref=()
for _ in 1 2 3; do
  start=$(date +%s%N); zstd -1 -q -f "$work/raw1g" -o "$work/raw1g.zst"; sha256sum "$work/raw1g" >/dev/null; end=$(date +%s%N)
  ref+=($(( (end - start) / 1000000 )))
done
refms=$(printf '%s\n' "${ref[@]}" | sort -n | sed -n 2p)
awk -v ours="$(cat "$work/persist")" -v ref="$refms" 'BEGIN { printf "%-34s %.2f s (%.0f MiB/s); zstd -1 + sha256sum %.2f s (%.0f MiB/s): %.1fx\n", "persist 1 GiB random", ours, 1024 / ours, ref / 1000, 1024000 / ref, (ref / 1000) / ours }'
rm -f "$work/raw1g" "$work/raw1g.zst"
fi

# The client (#7), in a fresh process each time: the newest 20 runs of a flow with 10,000 runs and its latest
# successful run; then 50 runs of another flow with one artifact read from each. The fixture is written through the
# datastore library (bench/ClientBench); the figures are the milliseconds from the first client call.
cd "$repo"
if want client; then
MSBUILDDISABLENODEREUSE=1 dotnet build bench/ClientBench -c Release -nr:false -v:q -nologo "-p:ArtifactsPath=$work/artifacts" >/dev/null
client="$work/artifacts/bin/ClientBench/release/ClientBench.dll"
dotnet "$client" fixture "$work/clientstore/.flow"
for _ in $(seq "$n"); do dotnet "$client" measure "$work/clientstore/.flow"; done > "$work/client.txt"
cut -d' ' -f1 "$work/client.txt" | sort -n | awk '{ t[NR] = $1 } END { printf "%-34s median %5d ms   min %5d ms   max %5d ms   (n=%d)\n", "newest 20 of 10,000 runs + latest successful", t[int((NR + 1) / 2)], t[1], t[NR], NR }'
cut -d' ' -f2 "$work/client.txt" | sort -n | awk '{ t[NR] = $1 } END { printf "%-34s median %5d ms   min %5d ms   max %5d ms   (n=%d)\n", "50 runs, one artifact each", t[int((NR + 1) / 2)], t[1], t[NR], NR }'
printf '%-34s %5d ms (once, then as above)\n' "the same with the run index deleted" "$(dotnet "$client" rebuild "$work/clientstore/.flow" | cut -d' ' -f1)"
fi

# Interrupting a run (#12): a foreach of 100 tasks of 200 ms each, in a session of its own; SIGTERM to the tool 1.5 s
# after the run started; the time until every process of the run has ended (the run is then recorded as failed).
# The UI (#13): `dotnet flow ui` started in the template project until its first page answers; the run page's data
# (graph and timeline) of a run of 10,000 tasks; the UI process's peak memory after serving it.
if want ui; then
cd "$work/Bench"
ui_first=()
for _ in $(seq "${REPS:-$n}"); do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  start=$(date +%s%N)
  "$flow" ui --port "$port" >/dev/null 2>&1 &
  ui=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.01; done
  end=$(date +%s%N)
  kill -TERM "$ui"; wait "$ui" 2>/dev/null || true
  ui_first+=($(( (end - start) / 1000000 )))
done
printf '%s\n' "${ui_first[@]}" | sort -n | awk '{ t[NR] = $1 } END { printf "%-34s median %5d ms   min %5d ms   max %5d ms   (n=%d)\n", "ui: first page served", t[int((NR + 1) / 2)], t[1], t[NR], NR }'
cd "$work/Wide"
idfile=$(mktemp -u)
"$flow" run --count 10000 --max-num-splits 10000 --run-id-file "$idfile" >/dev/null 2>&1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$flow" ui --port "$port" >/dev/null 2>&1 &
ui=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.01; done
REPS=5 measure "ui: run page data, 10,000 tasks" curl -sf -o /dev/null "http://127.0.0.1:$port/api/runs/WideFlow/$(cat "$idfile")"
# The same page in Chromium until its graph and timeline are drawn (the Node.js and playwright-core the browser
# tests restore with Microsoft.Playwright; Debian's chromium).
pw="${user_packages%/}/microsoft.playwright/1.64.1/.playwright"
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$pw/node/linux-x64/node" ] && [ -x "$chromium" ]; then
  read -r med min max count < <("$pw/node/linux-x64/node" "$repo/bench/ui-page.js" "$pw/package" "$chromium" "http://127.0.0.1:$port/WideFlow/$(cat "$idfile")" 5)
  printf '%-34s median %5d ms   min %5d ms   max %5d ms   (n=%d)\n' "ui: run page drawn, 10,000 tasks" "$med" "$min" "$max" "$count"
else
  echo "ui: run page drawn, 10,000 tasks   skipped: needs $chromium and the Microsoft.Playwright package restored (run the tests once)"
fi
echo "ui: process peak memory (VmHWM)    $(( $(awk '/VmHWM/ { print $2 }' "/proc/$ui/status") / 1024 )) MiB"
kill -TERM "$ui"; wait "$ui" 2>/dev/null || true
rm -f "$idfile"
fi

if want interrupt; then
cd "$work/Wide"
stops=()
for _ in $(seq "${REPS:-$n}"); do
  idfile=$(mktemp -u)
  setsid "$flow" run --count 100 --sleep-ms 200 --run-id-file "$idfile" >/dev/null 2>&1 &
  leader=$!
  while [ ! -s "$idfile" ]; do sleep 0.02; done
  sleep 1.5
  start=$(date +%s%N)
  kill -TERM "$leader"
  while [ -n "$(ps -o pid= -g "$leader" 2>/dev/null)" ]; do sleep 0.01; done
  end=$(date +%s%N)
  wait "$leader" 2>/dev/null || true
  stops+=($(( (end - start) / 1000000 )))
  rm -f "$idfile"
done
printf '%s\n' "${stops[@]}" | sort -n | awk '{ t[NR] = $1 } END { printf "%-34s median %5d ms   min %5d ms   max %5d ms   (n=%d)\n", "SIGTERM to every process gone", t[int((NR + 1) / 2)], t[1], t[NR], NR }'
fi

# Slurm (needs root: a real single-node cluster from eng/slurm.sh, stopped at the end). Per-task overhead: the
# template flow's three tasks one after another, with --with slurm and without; a 200-item foreach as one job array.
if want slurm; then
if [ "$(id -u)" != 0 ]; then
  echo "slurm: skipped, starting a cluster needs root"
else
slurm_dir="$work/slurm"
mkdir -p "$slurm_dir"
eval "$(bash "$repo/eng/slurm.sh" start "$slurm_dir")"
cd "$work/Bench"
"$flow" run --with slurm >/dev/null 2>&1   # the cluster's first job starts late (~3 s): not measured
measure "slurm: template run, local" "$flow" run
measure "slurm: template run, --with slurm" "$flow" run --with slurm
cd "$work/Wide"
REPS=5 measure "slurm: foreach of 200 (job array)" "$flow" run --count 200 --max-num-splits 200 --max-workers 8 --with slurm
REPS=5 measure "slurm: foreach of 200, local" "$flow" run --count 200 --max-num-splits 200
bash "$repo/eng/slurm.sh" stop "$slurm_dir"
fi
fi
