#!/usr/bin/env bash
# Compares two builds of the product on the same cases, interleaved (A, B, A, B, ...), so the machine's load
# drifts over both alike: on a noisy machine two separate runs of bench.sh differ by 30 % on unchanged code.
# Make each folder with `BENCH_KEEP=1 BENCH_CASES=none bash bench/bench.sh` in the checkout to compare (it prints
# "kept DIR"), then:
#   bash bench/ab.sh DIR_A DIR_B [N]
# Prints the median (min-max) of each case for A and B, and B's median relative to A's.
set -euo pipefail
a=$1
b=$2
n=${3:-11}
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

prepare() { # dir: the origin run resume starts from, and a first run of each project (builds it)
  local dir=$1
  (cd "$dir/Bench" && "$dir/tools/dotnet-flow" run >/dev/null 2>&1)
  (cd "$dir/Wide" && "$dir/tools/dotnet-flow" run >/dev/null 2>&1)
  (cd "$dir/Big" && "$dir/tools/dotnet-flow" run --mb 1 >/dev/null 2>&1)
  (cd "$dir/Resume" && FAIL=1 "$dir/tools/dotnet-flow" run --mb 0 --run-id-file "$dir/origin" >/dev/null 2>&1 || true)
}
prepare "$a"
prepare "$b"

# A command starting with "typed" is run as users type it: `dotnet flow ...` in the project, the CLI finding the tool
# through the project's tool manifest (in the folder's own package cache, where bench.sh installed it).
cases=(
  "run, unchanged template flow|Bench|run"
  "as typed: dotnet flow run|Bench|typed run"
  "run after a one-line edit|Bench|edit"
  "show|Bench|show"
  "as typed: dotnet flow show|Bench|typed show"
  "foreach of 100|Wide|run --count 100"
  "resume at step 4 of 5|Resume|resume --origin-run-id @origin"
  "foreach of 1,000|Wide|run --count 1000 --max-num-splits 1000"
  "256 MiB random artifact: run|Big|run --kind random"
  "256 MiB text artifact: run|Big|run --kind text"
)
# AB_ONLY=REGEX keeps only the cases whose name matches (grep -E), e.g. AB_ONLY='foreach'.
if [ -n "${AB_ONLY:-}" ]; then
  kept=()
  for entry in "${cases[@]}"; do
    if grep -qE "$AB_ONLY" <<< "${entry%%|*}"; then kept+=("$entry"); fi
  done
  cases=("${kept[@]}")
fi
declare -A times
for _ in $(seq "$n"); do
  for entry in "${cases[@]}"; do
    IFS='|' read -r name project args <<< "$entry"
    for side in A B; do
      dir=$a
      [ "$side" = B ] && dir=$b
      cd "$dir/$project"
      start=$(date +%s%N)
      if [ "$args" = edit ]; then
        # A one-line edit to a text never built before, then run: build, store and materialize new code.
        sed -i -E "s/(Hello|Howdy)[^,]*, \{Name\}!/Howdy $(date +%s%N), {Name}!/" HelloFlow.cs
        "$dir/tools/dotnet-flow" run >/dev/null 2>&1 || true
      elif [[ "$args" == typed\ * ]]; then
        # shellcheck disable=SC2086
        NUGET_PACKAGES="$dir/nuget" dotnet flow ${args#typed } >/dev/null 2>&1 || true
      else
        # shellcheck disable=SC2086
        "$dir/tools/dotnet-flow" ${args//@origin/$(cat "$dir/origin")} >/dev/null 2>&1 || true
      fi
      end=$(date +%s%N)
      times["$name|$side"]+="$(( (end - start) / 1000000 )) "
    done
  done
done
stat() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ t[NR] = $1 } END { printf "%d %d %d", t[int((NR + 1) / 2)], t[1], t[NR] }'; }
printf '%-34s %-22s %-22s %s\n' "case (n=$n, interleaved)" "A median (min-max)" "B median (min-max)" "B/A"
for entry in "${cases[@]}"; do
  IFS='|' read -r name _ _ <<< "$entry"
  read -r am amin amax <<< "$(echo "${times["$name|A"]}" | stat)"
  read -r bm bmin bmax <<< "$(echo "${times["$name|B"]}" | stat)"
  printf '%-34s %-22s %-22s %s\n' "$name" "$am ms ($amin-$amax)" "$bm ms ($bmin-$bmax)" "$(awk -v a="$am" -v b="$bm" 'BEGIN { printf "%+.0f %%", (b - a) * 100 / a }')"
done
