#!/bin/bash
# start-slurm.sh: install, configure and start a single-node SLURM cluster on this machine
# (Debian 12 / Slurm 22.05 from apt), then wait until `sinfo` shows the node idle.
# tests/test_slurm.py runs it (INSTALL=0) to run the workflow on a real cluster; to try the
# cluster path by hand: `sudo tests/slurm/start-slurm.sh`, then README "Running on a cluster";
# `sudo tests/slurm/stop-slurm.sh` stops the daemons again.
# From the recipe in ../shared/slurm/ (tested there with Slurm 22.05.8, munge 0.5.15).
#
# Idempotent: packages already installed are not reinstalled, daemons already running are
# left alone, configuration is rewritten only when it changed (and then slurmctld/slurmd
# are restarted). Must run as root. No systemd needed: daemons are started directly.
#
#   WITH_SLURMDBD=1   also install MariaDB + slurmdbd so that `sacct` works (the plugin's
#                     default status command). Without it accounting is disabled and
#                     Snakemake must be run with `--slurm-status-command squeue`.
#   SMOKE=1           run `srun hostname` at the end.
#   INSTALL=0         never run apt-get: exit 3 if a package is missing (the tests skip then).
#   NODE_TIMEOUT=60   seconds to wait for the node to become idle.
#
# PIDs of what it started are in /run/munge/munged.pid, /run/slurm/slurmctld.pid,
# /run/slurm/slurmd.pid (and /run/slurm/slurmdbd.pid, /run/mysqld/mysqld.pid);
# stop-slurm.sh stops exactly those.
set -euo pipefail

WITH_SLURMDBD=${WITH_SLURMDBD:-0}
SMOKE=${SMOKE:-0}
INSTALL=${INSTALL:-1}
NODE_TIMEOUT=${NODE_TIMEOUT:-60}
DB_PASS=${SLURM_DB_PASS:-slurmdbpass}

log() { printf '[start-slurm %s] %s\n' "$(date +%T)" "$*"; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
T0=$(date +%s.%N)

# pid file holds a live process whose name is $2
running() { local f=$1 name=$2 pid; [ -s "$f" ] || return 1; pid=$(cat "$f"); [ -d "/proc/$pid" ] || return 1
            grep -q "^${name}" "/proc/$pid/comm" 2>/dev/null; }
wait_for() { local secs=$1; shift; local i; for i in $(seq 1 $((secs * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done; return 1; }
stop_pidfile() { local f=$1 name=$2 pid; running "$f" "$name" || return 0; pid=$(cat "$f"); kill "$pid"
                 for _ in $(seq 1 80); do [ -d "/proc/$pid" ] || return 0; sleep 0.25; done; kill -9 "$pid" || true; }

# ---- 1. packages ------------------------------------------------------------------------
pkgs=(slurm-wlm munge)
[ "$WITH_SLURMDBD" = 1 ] && pkgs+=(slurmdbd mariadb-server)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ] && [ "$INSTALL" != 1 ]; then
    log "not installed: ${missing[*]} (INSTALL=0)"; exit 3
elif [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    log "packages already installed"
fi
log "slurm $(dpkg-query -W -f='${Version}' slurmctld), munge $(dpkg-query -W -f='${Version}' munge)"

# ---- 2. munge -----------------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
    log "creating munge key"
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge /etc/munge/munge.key; chmod 700 /etc/munge; chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge; chmod 755 /run/munge
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already running"
else
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged
    wait_for 10 sh -c 'munge -n | unmunge' || die "munged did not come up"
fi

# ---- 3. slurm.conf ------------------------------------------------------------------------
H=$(hostname -s)
CPUS=$(nproc)
MEM_TOTAL=$(awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo)
REAL_MEM=$((MEM_TOTAL * 90 / 100))        # keep it below the memory slurmd detects (slurmd -C)
if [ "$WITH_SLURMDBD" = 1 ]; then
    ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost"
else
    ACCT="AccountingStorageType=accounting_storage/none"
fi
NEW_CONF=$(cat <<EOF
# written by start-slurm.sh
ClusterName=local
SlurmctldHost=$H(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
$ACCT
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# squeue keeps finished jobs this long; the Snakemake plugin needs >= 3 x its first
# status-check delay (else it falls back to sacct), and more than its 180 s max poll gap
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
Waittime=0
NodeName=$H NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$REAL_MEM State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
)
mkdir -p /etc/slurm /run/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
chown slurm:slurm /run/slurm /var/lib/slurm/slurmctld /var/log/slurm
CONF_CHANGED=0
if [ ! -f /etc/slurm/slurm.conf ] || [ "$(cat /etc/slurm/slurm.conf)" != "$NEW_CONF" ]; then
    log "writing /etc/slurm/slurm.conf (NodeName=$H CPUs=$CPUS RealMemory=$REAL_MEM)"
    printf '%s\n' "$NEW_CONF" > /etc/slurm/slurm.conf
    CONF_CHANGED=1
fi

# ---- 4. optional: MariaDB + slurmdbd (makes sacct work) ------------------------------
if [ "$WITH_SLURMDBD" = 1 ]; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    if mariadb-admin ping >/dev/null 2>&1; then
        log "mariadb already running"
    else
        log "starting mariadbd"
        setsid /usr/sbin/mariadbd --user=mysql --pid-file=/run/mysqld/mysqld.pid \
            --socket=/run/mysqld/mysqld.sock --bind-address=127.0.0.1 \
            >/var/log/slurm/mariadbd.out 2>&1 </dev/null &
        wait_for 30 mariadb-admin ping || die "mariadbd did not come up (see /var/log/slurm/mariadbd.out)"
    fi
    mariadb -uroot -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
                       GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
    cat > /etc/slurm/slurmdbd.conf.new <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurm/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
    if ! cmp -s /etc/slurm/slurmdbd.conf.new /etc/slurm/slurmdbd.conf; then
        mv /etc/slurm/slurmdbd.conf.new /etc/slurm/slurmdbd.conf
        stop_pidfile /run/slurm/slurmdbd.pid slurmdbd
    else
        rm -f /etc/slurm/slurmdbd.conf.new
    fi
    chown slurm:slurm /etc/slurm/slurmdbd.conf; chmod 600 /etc/slurm/slurmdbd.conf   # slurmdbd refuses otherwise
    if running /run/slurm/slurmdbd.pid slurmdbd; then
        log "slurmdbd already running"
    else
        log "starting slurmdbd"
        /usr/sbin/slurmdbd
        wait_for 30 sacctmgr -n list cluster || die "slurmdbd did not answer (see /var/log/slurm/slurmdbd.log)"
    fi
    if ! sacctmgr -n -P list cluster format=cluster | grep -qx local; then
        log "registering cluster 'local' in slurmdbd"
        sacctmgr -i add cluster local >/dev/null
    fi
fi

# ---- 5. slurmctld + slurmd ------------------------------------------------------------------
if [ "$CONF_CHANGED" = 1 ]; then
    stop_pidfile /run/slurm/slurmd.pid slurmd
    stop_pidfile /run/slurm/slurmctld.pid slurmctld
fi
if running /run/slurm/slurmctld.pid slurmctld; then log "slurmctld already running"
else log "starting slurmctld"; /usr/sbin/slurmctld; fi
wait_for 30 scontrol ping || die "slurmctld does not answer (see /var/log/slurm/slurmctld.log)"
if running /run/slurm/slurmd.pid slurmd; then log "slurmd already running"
else log "starting slurmd"; /usr/sbin/slurmd; fi

# ---- 6. wait for the node -------------------------------------------------------------------
state=""
for i in $(seq 1 $((NODE_TIMEOUT * 2))); do
    state=$(sinfo -h -n "$H" -o %t 2>/dev/null || true)
    case "$state" in
        idle|mix|alloc) break ;;
        down|drain|drng) scontrol update NodeName="$H" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.5
done
case "$state" in idle|mix|alloc) ;; *) sinfo -R || true; die "node $H is '$state' after ${NODE_TIMEOUT}s" ;; esac
sinfo
if [ "$SMOKE" = 1 ]; then log "srun hostname -> $(srun -t 1 hostname)"; fi
log "PIDs: munged=$(cat /run/munge/munged.pid 2>/dev/null) slurmctld=$(cat /run/slurm/slurmctld.pid) slurmd=$(cat /run/slurm/slurmd.pid)$( [ "$WITH_SLURMDBD" = 1 ] && echo " slurmdbd=$(cat /run/slurm/slurmdbd.pid) mariadbd=$(cat /run/mysqld/mysqld.pid)")"
log "ready in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
