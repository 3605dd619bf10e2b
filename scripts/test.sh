#!/usr/bin/env bash
# Runs every test of the workspace: the README's "run every test" command, and what CI runs.
#
# Works on a fresh machine (Debian 12 as root, Rust with rustfmt/clippy, CPython 3.11, Java 17):
#   1. installs the system packages the interop tests need (apt; see the marked list below),
#   2. creates <repo>/.venv if missing and installs the pinned Python peers into it
#      (quick no-op when they are already there),
#   3. cargo fmt --check, cargo clippy -D warnings, a build without the pyro wire, cargo doc with
#      -D warnings, cargo test --workspace,
#   4. a short fuzz run of every decoder (scripts/fuzz.sh --runs 100000; needs the nightly toolchain).
# Exits non-zero on the first failing step and prints a summary line either way.
#   scripts/test.sh --peers-only   does steps 1 and 2 only (scripts/bench.sh uses it).
set -euo pipefail

PEERS_ONLY=0
case "${1:-}" in
    --peers-only) PEERS_ONLY=1 ;;
    "") ;;
    *) echo "usage: scripts/test.sh [--peers-only]" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# A one-shot build gains nothing from cargo's incremental cache, which would double target/'s size
# (CI's disk is not large). Set CARGO_INCREMENTAL=1 to keep it for local edit-test loops.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

START=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }
# A clean build and test run needs about 4 GiB in target/ (and ~1 GiB in fuzz/target/). The disk
# may be shared with other work, so say up front when it is short rather than fail in the linker.
FREE_KIB=$(df -Pk . | awk 'NR==2 {print $4}')
echo "test.sh: $((FREE_KIB / 1024)) MiB free on the disk of $ROOT"
if [ "${FREE_KIB:-0}" -lt $((6 * 1024 * 1024)) ]; then
    echo "test.sh: WARNING: less than 6 GiB free; the build may fail for want of disk (see above)" >&2
fi
fail() {
    printf '\ntest.sh: FAILED at step: %s (after %ss)\n' "$1" "$(($(date +%s) - START))" >&2
    exit 1
}

# --- 1. System packages --------------------------------------------------------------------------
# >>> APT PACKAGES: add Debian packages the interop tests need here (e.g. libhessian-java for the
# >>> Java Hessian peer, etcd-server for tether-cluster discovery). Installed only when missing.
# openssl: the `openssl verify` checks of the sample PKI (tether pki, tether-tls tests).
# libhessian-java: Caucho's Hessian 4.0.38, the Java peer of the Hessian interop tests (client
# and server); default-jdk-headless: javac/java for it, if the image has no JDK 17.
# etcd-server: etcd 3.4, the discovery store of tether-cluster (its tests start it on loopback
# ports of their own and stop it by pid; the packaged service is not used).
# prometheus: Prometheus 2.42, which the observability tests start on a loopback port to scrape
# tether's admin endpoint (the packaged service is not used).
# iproute2, iptables: the fault tests make hosts in network namespaces (veth pairs, private
# addresses) and black-hole them with iptables DROP.
APT_PACKAGES=(openssl libhessian-java etcd-server prometheus iproute2 iptables)
command -v javac >/dev/null || APT_PACKAGES+=(default-jdk-headless)
# <<< APT PACKAGES

missing_apt=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing_apt+=("$pkg")
done
if ((${#missing_apt[@]})); then
    step "apt-get install ${missing_apt[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing_apt[@]}"; } \
        || fail "apt-get install ${missing_apt[*]}"
fi

# --- 2. Python peers (Pyro5, Pyro4, serpent, msgpack, python-hessian) in <repo>/.venv ----------------------------------
VENV="$ROOT/.venv"
REQS="$ROOT/scripts/requirements-peers.txt"
PY="${PYTHON:-python3}"

make_venv() {
    "$PY" -m venv "$VENV" 2>/dev/null && return 0
    rm -rf "$VENV"
    # Debian's own python3 ships venv separately (python3-venv); install it and retry.
    if command -v apt-get >/dev/null && [ "$(id -u)" -eq 0 ]; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv \
            && "$PY" -m venv "$VENV" && return 0
        rm -rf "$VENV"
    fi
    # Last resort: virtualenv from PyPI.
    "$PY" -m pip install -q --user virtualenv && "$PY" -m virtualenv -q "$VENV"
}

if [ ! -x "$VENV/bin/python" ]; then
    step "creating $VENV"
    make_venv || fail "create .venv (python3 -m venv)"
fi

# Fast path: every pinned requirement already installed at its exact version.
peers_ok() {
    "$VENV/bin/python" - "$REQS" <<'PYEOF'
import sys
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PYEOF
}
if ! peers_ok; then
    step "pip install -r scripts/requirements-peers.txt"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQS" || fail "pip install peers"
    peers_ok || fail "Python peers at the pinned versions after pip install"
fi
export TETHER_PYTHON="$VENV/bin/python"
PEER_VERSIONS='import Pyro5, Pyro4, serpent, msgpack
from importlib.metadata import version
print("Pyro5", Pyro5.__version__, "Pyro4", Pyro4.__version__, "serpent", serpent.__version__,
      "msgpack", version("msgpack"), "python-hessian", version("python-hessian"))'
echo "Python peers: $("$TETHER_PYTHON" -c "$PEER_VERSIONS"); Java: $(java -version 2>&1 | head -1)"

# --- 2b. The seed's own stack: Python 2.7 (the image's pyenv 2.7.18; Debian has no Python 2)
# with pyro==3.16 and springpython==1.3.0.RC1, installed into <repo>/.py2 (pip --target; the
# Pyro 3 tests put it on PYTHONPATH). The real binary is used, not pyenv's shim, so the pid a
# test starts is the interpreter's own.
PY2="${TETHER_PYTHON2:-}"
if [ -z "$PY2" ]; then
    for c in "${PYENV_ROOT:-$HOME/.pyenv}/versions/2.7.18/bin/python2.7" \
             "$(PYENV_VERSION=2.7.18 pyenv which python2.7 2>/dev/null || true)"; do
        if [ -n "$c" ] && [ -x "$c" ]; then PY2="$c"; break; fi
    done
fi
[ -n "$PY2" ] && [ -x "$PY2" ] || fail "Python 2.7.18 (pyenv) not found: set TETHER_PYTHON2 to a python2.7"
PY2_SITE="$ROOT/.py2"
if [ ! -d "$PY2_SITE/Pyro" ] || [ ! -d "$PY2_SITE/springpython" ]; then
    step "python2.7 -m pip install --target .py2 pyro==3.16 springpython==1.3.0.RC1"
    "$PY2" -m pip install -q --disable-pip-version-check --no-warn-script-location \
        --target "$PY2_SITE" pyro==3.16 springpython==1.3.0.RC1 2>&1 | grep -v DEPRECATION || true
    [ -d "$PY2_SITE/Pyro" ] && [ -d "$PY2_SITE/springpython" ] || fail "pip install Pyro 3 / Spring Python 1.3 for Python 2.7"
fi
export TETHER_PYTHON2="$PY2" TETHER_PY2_SITE="$PY2_SITE"
echo "Python 2 peers: $(PYTHONPATH="$PY2_SITE" "$PY2" -c 'import sys, Pyro.constants; print "Python %s, Pyro %s, Spring Python 1.3.0.RC1" % (sys.version.split()[0], Pyro.constants.VERSION)' 2>&1)"

[ "$PEERS_ONLY" -eq 1 ] && exit 0

# --- 3. Rust: format, lints, tests ---------------------------------------------------------------
step "cargo fmt --all -- --check"
cargo fmt --all -- --check || fail "cargo fmt (run: cargo fmt --all)"

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings || fail "cargo clippy"

# The container knows wires only through the seam: it depends on no wire or pool crate, and the
# facade builds with the container and no wire compiled in.
step "the container depends on no wire (cargo tree -p tether-context)"
if cargo tree -q -p tether-context -e normal --prefix none | grep -E '^tether-(pyro|hessian|xmlrpc|cluster) '; then
    fail "tether-context depends on a wire or pool crate"
fi
step "cargo clippy -p tether --no-default-features --features context -- -D warnings"
cargo clippy -q -p tether --no-default-features --features context -- -D warnings || fail "the facade with the container and no wire"
# A Pyro client (no name server of its own) compiles no SQLite.
step "a Pyro client without the name server compiles no SQLite (cargo tree -p tether --features pyro)"
if cargo tree -q -p tether --no-default-features --features pyro,context -e normal --prefix none | grep -E '^(rusqlite|libsqlite3-sys) '; then
    fail "tether with pyro and without name-server depends on SQLite"
fi
cargo clippy -q -p tether-pyro --no-default-features -- -D warnings || fail "tether-pyro without the name server"

# The Pyro wire without Pyro 3 (the workspace test build has it on, through the tether command):
# a PYROLOC:// URL must then be a configuration error naming the feature.
step "cargo test -p tether-pyro --lib (without the pyro3 feature)"
LIB_LOG="$(mktemp)"
cargo test -q -p tether-pyro --lib 2>&1 | tee "$LIB_LOG" || fail "tether-pyro without pyro3"

# The API docs build without a warning (broken intra-doc links, bad HTML in doc comments).
step "cargo doc --workspace --no-deps (RUSTDOCFLAGS=-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc -q --workspace --no-deps || fail "cargo doc (a doc comment has a broken link or bad HTML)"

# tether-bench is a benchmark binary with no tests (scripts/bench.sh runs it); clippy above
# already builds it, so it is left out of the test build.
step "cargo test --workspace --exclude tether-bench"
LOG="$(mktemp)"
trap 'rm -f "$LOG" "$LIB_LOG"' EXIT
set +e
cargo test --workspace --exclude tether-bench 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e

# Add up cargo's "test result: ok. N passed; N failed; N ignored; ..." lines.
read -r passed failed ignored < <(awk '
    /^test result:/ {
        for (i = 1; i <= NF; i++) {
            if ($(i+1) ~ /^passed/)  p += $i
            if ($(i+1) ~ /^failed/)  f += $i
            if ($(i+1) ~ /^ignored/) g += $i
        }
    }
    END { printf "%d %d %d\n", p, f, g }' "$LOG" "$LIB_LOG")

# A short fuzz run of every decoder (scripts/fuzz.sh; the long runs are documented in the README).
FUZZ_NOTE="fuzz: not run"
if [ "$rc" -eq 0 ]; then
    step "scripts/fuzz.sh --runs 100000"
    if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
        scripts/fuzz.sh --runs 100000 || fail "fuzz (a decoder crashed: see fuzz/artifacts/)"
        FUZZ_NOTE="fuzz ok"
    else
        echo "test.sh: SKIPPED the short fuzz run: no nightly toolchain on this machine (cargo-fuzz needs it)"
        FUZZ_NOTE="fuzz SKIPPED (no nightly toolchain)"
    fi
fi

ELAPSED=$(($(date +%s) - START))
echo
# Disk is a CI limit too (a run once failed on it): say what the build took.
echo "test.sh: disk: $(du -sh target 2>/dev/null | cut -f1) in target/, $(du -sh fuzz/target 2>/dev/null | cut -f1) in fuzz/target/ ($(df -h . | awk 'NR==2 {print $4}') free)"
if [ "$rc" -ne 0 ]; then
    echo "test.sh: FAILED at step: cargo test (exit $rc) after ${ELAPSED}s"
    echo "Summary: ${passed} passed, ${failed} failed, ${ignored} skipped"
    exit 1
fi
if [ "$passed" -eq 0 ]; then
    echo "test.sh: FAILED: cargo test ran no test"
    exit 1
fi
echo "test.sh: fmt ok, clippy ok, cargo test ok, ${FUZZ_NOTE} in ${ELAPSED}s"
echo "Summary: ${passed} passed, ${failed} failed, ${ignored} skipped"
