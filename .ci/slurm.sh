#!/usr/bin/env bash
# A real single-node SLURM cluster for the executor tests (Debian's slurmctld/slurmd/munge, no
# systemd): `up` writes the config, starts munge and both daemons and waits for the node;
# `down` cancels every job, waits for the queue to drain, then stops what `up` started.
# Recipe and pitfalls: ../shared/docs/slurm.md. What `up` started or replaced is recorded in
# $state, so `down` undoes exactly that: munged only if `up` started it, and a slurm.conf that
# `up` did not write is backed up there and put back.
# The cluster has its own name, state directory, spool, logs and pid files (below $spool, $logs
# and $state): `up` starts from empty ones whatever an earlier cluster left (another cluster's
# saved state makes slurmctld refuse to start: "CLUSTER NAME MISMATCH"), and daemons an earlier
# `up` left running are stopped first; `down` removes all of it.
set -euo pipefail
cmd=${1:?usage: slurm.sh up|down|status}
conf=/etc/slurm/slurm.conf
state=/run/weakcorr-slurm
spool=/var/spool/weakcorr-slurm
logs=/var/log/weakcorr-slurm
cluster=weakcorr-test
marker='# written by weakcorr .ci/slurm.sh'

# Stops the daemons an earlier `up` started (their pid files are ours), waiting until they are gone.
stop_daemons() {
  local pids=() files=("$state/slurmd.pid" "$state/slurmctld.pid")
  # An older version of this script kept them in /run/slurm (only when it was ours that ran).
  [ -f "$state/started" ] && files+=(/run/slurm/slurmd.pid /run/slurm/slurmctld.pid)
  for pid in "${files[@]}"; do
    if [ -f "$pid" ]; then
      p=$(cat "$pid")
      if [ -n "$p" ] && kill "$p" 2>/dev/null; then pids+=("$p"); fi
      rm -f "$pid"
    fi
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
}

up() {
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
  fi
  if sinfo -h -o %T 2>/dev/null | grep -Eqx 'idle|mixed|allocated'; then echo "slurm: already up"; return 0; fi
  mkdir -p "$state"
  # Whatever an earlier cluster of ours left: its daemons, saved state, spool and logs.
  stop_daemons
  rm -rf "$spool" "$logs"
  mkdir -p /run/munge "$spool/ctld" "$spool/d" "$logs" /etc/slurm
  chown munge:munge /run/munge
  [ -f /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
  if ! pgrep -x munged >/dev/null; then
    runuser -u munge -- munged
    touch "$state/munged"
  fi
  munge -n | unmunge >/dev/null
  # Someone else's config (a real cluster's, or another tool's) is kept aside and put back by `down`.
  # (ClusterName=weakcorr-test: written by an older version of this script)
  if [ -f "$conf" ] && ! grep -qxF -e "$marker" -e 'ClusterName=weakcorr-test' "$conf"; then
    if [ -f "$state/slurm.conf.orig" ]; then
      echo "slurm: $conf was not written by this script and $state/slurm.conf.orig already holds a backup; restore one of them by hand" >&2
      return 1
    fi
    cp -p "$conf" "$state/slurm.conf.orig"
    echo "slurm: $conf backed up to $state/slurm.conf.orig (restored by 'down')"
  fi
  host=$(hostname -s)
  read -r cpus mem < <(slurmd -C | awk '/^NodeName/ { for (i=1;i<=NF;i++) { split($i,a,"="); if (a[1]=="CPUs") c=a[2]; if (a[1]=="RealMemory") m=a[2] } print c, int(m*0.9) }')
  # DefMemPerCPU: without it a job that asks no --mem gets the whole node's memory, so jobs
  # would run one at a time on a node with CPUs to spare.
  cat > "$conf" <<CONF
$marker
ClusterName=$cluster
SlurmctldHost=${host}(127.0.0.1)
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=600
DefMemPerCPU=$((mem / cpus))
ReturnToService=2
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmdSpoolDir=$spool/d
StateSaveLocation=$spool/ctld
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
  # -c: start with no saved jobs. This cluster is a throwaway test cluster, and a state saved
  # while jobs ran (a machine image taken mid-test) would bring them back as running jobs that
  # no process serves, and the node would never become idle.
  slurmctld -c
  slurmd
  touch "$state/started" # before the wait: a start that fails is still stopped by `down`
  for _ in $(seq 1 100); do
    if sinfo -h -o %T 2>/dev/null | grep -qx idle; then echo "slurm: up (node ${host}, ${cpus} CPUs, ${mem} MB)"; return 0; fi
    sleep 0.2
  done
  echo "slurm: the node never became idle; see $logs/" >&2
  tail -n 20 "$logs/slurmctld.log" >&2 || true
  sinfo >&2 || true
  return 1
}

down() {
  if [ ! -f "$state/started" ] && [ ! -f "$state/munged" ] && [ ! -f "$state/slurm.conf.orig" ]; then
    echo "slurm: not started by 'slurm.sh up'; left as it is"; return 0
  fi
  if [ -f "$state/started" ]; then
    if command -v squeue >/dev/null && squeue -h >/dev/null 2>&1; then
      scancel --full "$(squeue -h -o %i | tr '\n' ' ')" 2>/dev/null || true
      for id in $(squeue -h -o %i); do scancel "$id" 2>/dev/null || true; done
      for _ in $(seq 1 100); do [ -z "$(squeue -h -o %i)" ] && break; sleep 0.2; done
    fi
    stop_daemons
    rm -rf "$spool" "$logs"
  fi
  if [ -f "$state/munged" ]; then
    [ -f /run/munge/munged.pid ] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    rm -f "$state/munged"
  fi
  if [ -f "$state/slurm.conf.orig" ]; then
    mv -f "$state/slurm.conf.orig" "$conf"
    echo "slurm: restored the original $conf"
  fi
  rm -f "$state/started"
  rmdir "$state" 2>/dev/null || true
  echo "slurm: down"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  status) sinfo; squeue ;;
  *) echo "usage: slurm.sh up|down|status" >&2; exit 2 ;;
esac
