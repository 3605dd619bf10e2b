#!/usr/bin/env bash
# Measures the code one call runs through in a tether-bench server (or client): the distinct
# instructions executed on every call and the 64-byte cache lines they lie in, with callgrind.
#
#   scripts/footprint.sh KIND [WORKLOAD] [CONNS] [TOP]            the server's footprint per call
#   scripts/footprint.sh --client KIND [WORKLOAD] [CONNS] [TOP]   the client's
#   BIN=path/to/tether-bench scripts/footprint.sh ...             another build (A/B)
#
# KIND, WORKLOAD and CONNS as for scripts/instructions.sh; TOP (default 15) is how many functions
# to list by their share of the lines. Why it matters: between two calls the kernel's TCP path
# runs, and a call whose code spans more lines than the CPU's instruction cache holds (32 KiB on
# this VM's EPYC, 512 lines) fetches all of them again every call, even with no kernel in
# between (`valgrind --tool=cachegrind --cache-sim=yes` shows it as I1 misses per call). The
# count is of instructions executed at least once per call on average (95% of the calls), so
# start-up, connection set-up and rare paths drop out (a loop run once over as many items as
# there were calls counts too: the client's final sort of its latencies, two lines); user space
# only, the runtime's included.
# Run the server on one CPU (`taskset -c 0 scripts/footprint.sh ...`) for the current-thread
# runtime the benchmark's pinned rows use. Needs valgrind (Debian: apt-get install -y valgrind).
set -euo pipefail
NAME=footprint.sh
USAGE="scripts/footprint.sh [--client] KIND [WORKLOAD] [CONNS] [TOP]"
source "$(dirname "${BASH_SOURCE[0]}")/lib/callgrind-side.sh"
TOP="${ARGS[3]:-15}"
CG=(valgrind --tool=callgrind --dump-instr=yes --compress-pos=no --compress-strings=no
    --callgrind-out-file="$WORK/cg.out")
start_server
run_client 3
CALLS="$(sed 's/.*calls=\([0-9]*\).*/\1/' <<<"$RESULT")"
[ "${CALLS:-0}" -gt 100 ] || { echo "footprint.sh: too few calls ($RESULT)" >&2; exit 1; }

# callgrind's instruction-level output: `ob=`/`fn=` name the object and function of the cost
# lines after them; a cost line is `ADDRESS LINE COUNT`; the cost line right after `calls=` is
# the called function's inclusive cost, not an instruction's, and is skipped.
awk -v min="$(( CALLS * 95 / 100 ))" -v calls="$CALLS" -v top="$TOP" \
    -v what="$KIND $WORKLOAD $CONNS, $SIDE" '
    /^ob=/ { ob = substr($0, 4); next }
    /^fn=/ { fn = substr($0, 4); next }
    /^calls=/ { skip = 1; next }
    /^0x/ {
        if (skip) { skip = 0; next }
        key = ob SUBSEP $1
        n[key] += $3
        if (!(key in owner)) owner[key] = fn
        next
    }
    { skip = 0 }
    END {
        for (key in n) {
            if (n[key] < min) continue
            split(key, p, SUBSEP)
            line = p[1] SUBSEP int((p[2] + 0) / 64)
            hot++
            runs += n[key]
            if (!(line in lines)) { lines[line] = 1; nlines++ }
            f = owner[key]
            fins[f]++
            if (!((f SUBSEP line) in fline)) { fline[f SUBSEP line] = 1; flines[f]++ }
        }
        printf "%s: %d instructions run on every call (%d executions a call), in %d cache lines (%.1f KiB)\n",
            what, hot, runs / calls, nlines, nlines * 64 / 1024
        for (i = 0; i < top; i++) {
            best = ""; bl = 0
            for (f in flines) if (flines[f] > bl) { bl = flines[f]; best = f }
            if (best == "") break
            printf "%5d lines %6d instructions  %s\n", bl, fins[best], substr(best, 1, 140)
            delete flines[best]
        }
    }' "$WORK/cg.out"
