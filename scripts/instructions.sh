#!/usr/bin/env bash
# Counts the instructions one call costs a tether-bench server (or client), with callgrind:
# a figure that does not move with the machine's noise, for A/B work on a shared VM where
# calls/s swing by several percent between runs of the same build.
#
#   scripts/instructions.sh KIND [WORKLOAD] [CONNS]            the server's instructions per call
#   scripts/instructions.sh --client KIND [WORKLOAD] [CONNS]   the client's
#   BIN=path/to/tether-bench scripts/instructions.sh ...       another build (A/B)
#
# KIND is a `tether-bench serve` kind (tether, tether4, pyro3, hessian, xmlrpc, raw-tokio, ...;
# tether-service: the Pyro5 echo with a dispatcher `#[tether::service]` generates, as a user's
# service has it, where `tether` has a hand-written one),
# WORKLOAD seq (default) or conc, CONNS 1 (default) or more. The side under callgrind runs two
# timed loops (1 s and 3 s, no warm-up); the figure is the slope between them, so start-up and
# connection set-up drop out. User-space instructions only (the kernel's share is not counted),
# the runtime's own included: raw-tokio is the floor to compare with.
# Needs valgrind (Debian: apt-get install -y valgrind).
set -euo pipefail
NAME=instructions.sh
USAGE="scripts/instructions.sh [--client] KIND [WORKLOAD] [CONNS]"
source "$(dirname "${BASH_SOURCE[0]}")/lib/callgrind-side.sh"
CG=(valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out")

# One timed loop of SECS seconds; sets CALLS and INSTR.
measure() {
    rm -f "$WORK/cg.out"
    start_server
    run_client "$1"
    CALLS="$(sed 's/.*calls=\([0-9]*\).*/\1/' <<<"$RESULT")"
    INSTR="$(awk '/^(summary|totals):/{print $2; exit}' "$WORK/cg.out")"
}

measure 1
C1=$CALLS I1=$INSTR
measure 3
C2=$CALLS I2=$INSTR
if [ "$C2" -le "$C1" ]; then
    echo "instructions.sh: the longer run made no more calls ($C1, $C2)" >&2
    exit 1
fi
echo "$KIND $WORKLOAD $CONNS, $SIDE: $(( (I2 - I1) / (C2 - C1) )) instructions per call ($C1 and $C2 calls)"
