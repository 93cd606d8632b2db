#!/usr/bin/env bash
# Starts and stops a real single-node Slurm cluster on this machine, for tests. Debian packages, no systemd.
#
#   bash eng/slurm.sh start DIR   # prints one line, 'export SLURM_CONF=DIR/slurm.conf', for eval "$(...)"
#   bash eng/slurm.sh stop DIR    # stops exactly the daemons 'start DIR' started; idempotent; exit 0
#
# start: needs root. Installs slurm-wlm and munge with apt-get when slurmctld is missing; writes DIR/slurm.conf
# (state, spool, pid files, logs and the jobcomp file all under DIR); starts munged as user munge unless one is
# already answering; starts slurmctld, waits for 'scontrol ping', starts slurmd, waits for the node to be idle.
# The pids it started are recorded in DIR/started.pids ('comm pid' lines); only those are stopped later.
# A cluster still running from an earlier 'start DIR' is stopped first, and every start begins from empty
# state (job ids restart at 1, DIR/jobcomp.txt is emptied); logs in DIR/log are appended to.
# Diagnostics go to stderr; on failure one line 'slurm.sh: ...' (plus a daemon log's tail) and exit 1, and
# whatever this start had already started is stopped again.
#
# The cluster: controller '$(hostname -s)(127.0.0.1)', one node 'flownode' (NodeAddr=127.0.0.1; CPUs, sockets,
# cores, threads from 'slurmd -C'; RealMemory 5 % below it), partition 'debug' (default, no time limit,
# OverSubscribe=FORCE:4: up to 4 jobs per core), munge auth, no cgroups (proctrack/linuxproc, task/none), no
# accounting database (sacct does not work; JobCompType=jobcomp/filetxt writes DIR/jobcomp.txt, one line per
# finished job), MinJobAge=3600 (scontrol show job remembers a finished job for an hour), KillWait=30.
#
# Environment: FLOW_SLURM_CTLD_PORT (default 6817) and FLOW_SLURM_SLURMD_PORT (default 6818) for a second
# cluster on one host; start fails when something already listens on either port. FLOW_SLURM_KILL_WAIT
# (default 30, Slurm's default): seconds between SIGTERM and SIGKILL on scancel or time limit.
# FLOW_SLURM_TIMEOUT (default 30): seconds to wait for each daemon.
#
# stop also SIGKILLs jobs still running on this cluster (their slurmstepd would outlive slurmd) and every process
# below them; a job's process that double-forked away from its job escapes, as it escapes scancel
# (proctrack/linuxproc). It ends nothing else: no other cluster's daemons or jobs. munged is stopped only when
# this start started it and no other slurmctld/slurmd is alive on the host.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

node=flownode
ctld_port=${FLOW_SLURM_CTLD_PORT:-6817}
slurmd_port=${FLOW_SLURM_SLURMD_PORT:-6818}
kill_wait=${FLOW_SLURM_KILL_WAIT:-30}
timeout=${FLOW_SLURM_TIMEOUT:-30}

log() { echo "slurm.sh: $*" >&2; }
die() { echo "slurm.sh: $*" >&2; exit 1; }

usage() { die "usage: bash eng/slurm.sh start|stop DIR"; }
[ $# -eq 2 ] || usage
action=$1
case "$action" in start|stop) ;; *) usage ;; esac
[ -n "$2" ] || usage
[ "$action" = stop ] || [ "$(id -u)" -eq 0 ] \
  || die "must run as root (the daemons run as root and munged is started as user munge)"
if [ "$action" = stop ] && [ ! -d "$2" ]; then exit 0; fi
mkdir -p "$2" || die "cannot create $2"
dir=$(cd "$2" && pwd -P) || die "cannot enter $2"
case "$dir" in *[[:space:]]*|*'#'*) die "DIR must not contain whitespace or '#' (slurm.conf cannot quote it): $dir" ;; esac
conf="$dir/slurm.conf"
pids="$dir/started.pids"

# True when PID is a live (not zombie) process whose comm is COMM.
alive() {
  local pid=$1 comm=$2 stat state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  state=${stat##*) }
  state=${state%% *}
  [ "$state" != Z ] && [ "$state" != X ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]
}

# Stops the daemons recorded in DIR/started.pids, newest first: SIGTERM, then SIGKILL after 5 s.
stop_recorded() {
  [ -f "$pids" ] || return 0
  local lines=() i comm pid waited live
  mapfile -t lines < "$pids"
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
    read -r comm pid <<< "${lines[i]}"
    [ -n "${comm:-}" ] || continue
    if [ "$comm" = munged ] && other_slurm_daemons; then
      log "leaving munged ($pid) running: another Slurm daemon on this host may use it"
      continue
    fi
    alive "$pid" "$comm" || continue
    kill -TERM "$pid" 2>/dev/null
    for ((waited = 0; waited < 50; waited++)); do
      alive "$pid" "$comm" || break
      sleep 0.1
    done
    if alive "$pid" "$comm"; then
      log "$comm ($pid) did not exit 5 s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null
      for ((waited = 0; waited < 50; waited++)); do
        alive "$pid" "$comm" || break
        sleep 0.1
      done
      alive "$pid" "$comm" && log "$comm ($pid) is still alive after SIGKILL"
    fi
  done
  live=0
  for ((i = 0; i < ${#lines[@]}; i++)); do
    read -r comm pid <<< "${lines[i]}"
    [ -n "${comm:-}" ] && [ "$comm" != munged ] && alive "$pid" "$comm" && live=1
  done
  [ "$live" -eq 1 ] || rm -f "$pids"
}

# True when a slurmctld or slurmd not recorded in DIR/started.pids is alive.
other_slurm_daemons() {
  local p pid comm
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    comm=$(cat "$p/comm" 2>/dev/null) || continue
    case "$comm" in slurmctld|slurmd) ;; *) continue ;; esac
    alive "$pid" "$comm" || continue
    grep -qx "$comm $pid" "$pids" 2>/dev/null && continue
    return 0
  done
  return 1
}

# Kills (SIGKILL) the job steps this cluster's slurmd started, which outlive it: slurmstepd processes whose
# environment holds SLURM_CONF=DIR/slurm.conf (start exports it to slurmd), and every process below them.
kill_steps() {
  local p pid stat state ppid changed n=0
  local -A parent=() mark=()
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    stat=$(cat "$p/stat" 2>/dev/null) || continue
    read -r state ppid _ <<< "${stat##*) }"
    parent[$pid]=$ppid
    [ "$state" != Z ] && [ "$(cat "$p/comm" 2>/dev/null)" = slurmstepd ] || continue
    tr '\0' '\n' 2>/dev/null < "$p/environ" | grep -Fqx "SLURM_CONF=$conf" && mark[$pid]=1
  done
  [ ${#mark[@]} -gt 0 ] || return 0
  changed=1
  while [ "$changed" -eq 1 ]; do
    changed=0
    for pid in "${!parent[@]}"; do
      if [ -z "${mark[$pid]:-}" ] && [ -n "${mark[${parent[$pid]}]:-}" ]; then mark[$pid]=1; changed=1; fi
    done
  done
  for pid in "${!mark[@]}"; do kill -KILL "$pid" 2>/dev/null && n=$((n + 1)); done
  log "killed $n job process(es) still running under this cluster's slurmstepd"
}

stop_cluster() {
  kill_steps
  stop_recorded
}

if [ "$action" = stop ]; then
  stop_cluster
  exit 0
fi

# ---- start ----
fail() {
  echo "slurm.sh: $1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    echo "slurm.sh: last lines of $2:" >&2
    tail -n 25 "$2" | sed 's/^/    /' >&2
  fi
  stop_cluster
  exit 1
}
record() { echo "$1 $2" >> "$pids"; }
# Records the pid in COMM's pid file when it names a live COMM; else (a daemon that died or has not written it
# yet) the live COMM whose command line holds '-f DIR/slurm.conf', if any.
record_pidfile() {
  local comm=$1 file=$2 pid p
  pid=$(tr -dc 0-9 2>/dev/null < "$file")
  if [ -z "$pid" ] || ! alive "$pid" "$comm"; then
    pid=
    for p in /proc/[0-9]*; do
      [ "$(cat "$p/comm" 2>/dev/null)" = "$comm" ] || continue
      tr '\0' ' ' 2>/dev/null < "$p/cmdline" | grep -Fq -- "-f $conf " || continue
      alive "${p#/proc/}" "$comm" && pid=${p#/proc/} && break
    done
  fi
  [ -n "$pid" ] || return 1
  record "$comm" "$pid"
}

# A cluster from an earlier start in this DIR: stop it, then start from empty state.
if [ -f "$pids" ]; then
  log "stopping the cluster an earlier start left running in $dir"
  stop_cluster
  [ -f "$pids" ] && die "could not stop the earlier cluster recorded in $pids"
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
  || ! command -v sinfo >/dev/null; then
  command -v apt-get >/dev/null || die "slurmctld is not installed and there is no apt-get to install slurm-wlm"
  mkdir -p "$dir/log"
  log "installing slurm-wlm and munge with apt-get (log: $dir/log/apt.log)"
  apt_opts=(-y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends)
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install "${apt_opts[@]}" slurm-wlm munge > "$dir/log/apt.log" 2>&1; then
    log "apt-get install failed; running apt-get update and trying again"
    { apt-get update -qq -o DPkg::Lock::Timeout=600 && apt-get install "${apt_opts[@]}" slurm-wlm munge; } \
      >> "$dir/log/apt.log" 2>&1 || fail "apt-get install slurm-wlm munge failed (see $dir/log/apt.log)" "$dir/log/apt.log"
  fi
  command -v slurmctld >/dev/null || fail "slurmctld is still missing after installing slurm-wlm"
fi

# Ports: refuse to start next to another cluster (or anything else) listening on them.
listening() {
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v p="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
for port in "$ctld_port" "$slurmd_port"; do
  listening "$port" && die "port $port is already in use (another Slurm cluster?); set FLOW_SLURM_CTLD_PORT/FLOW_SLURM_SLURMD_PORT or stop it"
done

# Node hardware as slurmd sees it; a mismatch would drain the node.
hw=$(slurmd -C 2>/dev/null | head -1)
field() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<< " $hw"; }
cpus=$(field CPUs); boards=$(field Boards); sockets=$(field SocketsPerBoard); cores=$(field CoresPerSocket)
threads=$(field ThreadsPerCore); memory=$(field RealMemory)
[ -n "$cpus" ] && [ -n "$sockets" ] && [ -n "$cores" ] && [ -n "$threads" ] && [ -n "$memory" ] \
  || fail "could not read the node's hardware from 'slurmd -C' (got: $hw)"
memory=$((memory * 95 / 100))
[ "$memory" -ge 256 ] || memory=256
host=$(hostname -s)
[ -n "$host" ] || fail "hostname -s printed nothing"

rm -rf "$dir/state" "$dir/spool"
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
: > "$dir/jobcomp.txt"
rm -f "$dir/slurmctld.pid" "$dir/slurmd.pid"

cat > "$conf" <<EOF
# Written by eng/slurm.sh for tests: a single-node cluster whose files all live under $dir.
ClusterName=flowtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Jobs still start on the controller's 1 s tick (sched/builtin measured no faster); the default 3 s
# batch_sched_delay would add to it.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=3600
KillWait=$kill_wait
MailProg=/bin/true
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus Boards=${boards:-1} SocketsPerBoard=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
export SLURM_CONF="$conf"

# Waits up to $timeout seconds for COMMAND to succeed.
wait_for() {
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# munge: what systemd's unit would prepare; munged runs as user munge.
munge_up() { munge -n < /dev/null 2> /dev/null | unmunge > /dev/null 2>&1; }
if ! munge_up; then
  id munge > /dev/null 2>&1 || fail "user munge does not exist (is the munge package installed?)"
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge /etc/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key >&2 || fail "could not create /etc/munge/munge.key"
  fi
  chown munge:munge /etc/munge/munge.key && chmod 0600 /etc/munge/munge.key
  rm -f /run/munge/munged.pid
  runuser -u munge -- munged >&2 || fail "munged did not start" /var/log/munge/munged.log
  wait_for munge_up || fail "munged did not answer within $timeout s" /var/log/munge/munged.log
  record_pidfile munged /run/munge/munged.pid || log "munged is up but /run/munge/munged.pid names no live munged"
fi

slurmctld -f "$conf" -i >&2 || fail "slurmctld did not start" "$dir/log/slurmctld.log"
ctld_up() { scontrol ping | grep -q 'is UP'; }
if ! wait_for ctld_up; then
  record_pidfile slurmctld "$dir/slurmctld.pid"
  fail "slurmctld did not answer 'scontrol ping' within $timeout s" "$dir/log/slurmctld.log"
fi
record_pidfile slurmctld "$dir/slurmctld.pid" || fail "slurmctld answers but $dir/slurmctld.pid names no live slurmctld" "$dir/log/slurmctld.log"

slurmd -f "$conf" -N "$node" >&2 || fail "slurmd did not start" "$dir/log/slurmd.log"
node_idle() { [ "$(sinfo -h -n "$node" -o %t)" = idle ]; }
if ! wait_for node_idle; then
  record_pidfile slurmd "$dir/slurmd.pid"
  fail "node $node is not idle after $timeout s (sinfo says '$(sinfo -h -n "$node" -o '%t %E' 2>&1)')" "$dir/log/slurmd.log"
fi
record_pidfile slurmd "$dir/slurmd.pid" || fail "node is idle but $dir/slurmd.pid names no live slurmd" "$dir/log/slurmd.log"

log "cluster up in $dir (node $node: $cpus CPUs, ${memory} MiB; ports $ctld_port/$slurmd_port)"
printf 'export SLURM_CONF=%q\n' "$conf"
