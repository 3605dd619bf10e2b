#!/usr/bin/env bash
# The soak's fault phase: three hosts in network namespaces made here (veth pairs, private
# addresses 10.201.Y.0/24, a blackhole route so nothing leaves the machine), each running
# `tether echo-server`; `tether bench` calls through a pool written with the defaults (idempotent
# echo) over them with 8 connections while one host is black-holed (iptables DROP), a second
# partitioned (link down), then both healed. Prints the bench's figures (calls, failures, p50,
# p99, max) for the whole phase. Needs root, ip and iptables; says so and skips otherwise.
#   scripts/soak_faults.sh TETHER_BINARY [SECONDS]   (called by scripts/soak.sh)
set -uo pipefail
T="$1"; SECS="${2:-60}"
NS=(tsoak0 tsoak1 tsoak2)
cleanup() {
    for i in 0 1 2; do
        ip link del "tsh$i" 2>/dev/null
        ip netns del "${NS[$i]}" 2>/dev/null
        ip route del blackhole "10.201.$i.0/24" metric 4000 2>/dev/null
    done
    kill ${PIDS[@]:-} 2>/dev/null
}
trap cleanup EXIT
PIDS=()
if ! { [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && command -v iptables >/dev/null; }; then
    echo "soak fault phase: SKIPPED (needs root, ip and iptables)"
    exit 0
fi
cleanup 2>/dev/null
URLS=""
for i in 0 1 2; do
    ns=${NS[$i]}
    ip netns add "$ns" && ip link add "tsh$i" type veth peer name "tsn$i" && ip link set "tsn$i" netns "$ns" \
        && ip addr add "10.201.$i.1/24" dev "tsh$i" && ip link set "tsh$i" up \
        && ip route add blackhole "10.201.$i.0/24" metric 4000 \
        && ip netns exec "$ns" ip addr add "10.201.$i.2/24" dev "tsn$i" \
        && ip netns exec "$ns" ip link set "tsn$i" up && ip netns exec "$ns" ip link set lo up \
        || { echo "soak fault phase: SKIPPED (cannot make network namespaces)"; exit 0; }
    ip netns exec "$ns" "$T" echo-server --protocol pyro5 -H "10.201.$i.2" -p 7000 >/dev/null 2>&1 &
    PIDS+=($!)
    URLS="$URLS<value>PYRO:test.echoserver@10.201.$i.2:7000</value>"
done
for i in 0 1 2; do
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/10.201.$i.2/7000") 2>/dev/null && break; sleep 0.1; done
done
XML="$(mktemp --suffix=.xml)"
cat > "$XML" <<XEOF
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="service" class="tether.cluster.PoolProxyFactory">
    <property name="service_urls"><list>$URLS</list></property>
    <property name="idempotent_methods"><list><value>echo</value></list></property>
  </object>
</objects>
XEOF
OUT="$(mktemp)"
"$T" bench --context "$XML" service echo "'x'" -c 8 -z "$SECS" --json >"$OUT" 2>/dev/null &
BENCH=$!
step=$(( SECS / 4 ))
sleep "$step"; echo "soak fault phase: t=${step}s black-holing host 0"; ip netns exec "${NS[0]}" iptables -I INPUT -j DROP
sleep "$step"; echo "soak fault phase: t=$(( 2 * step ))s partitioning host 1"; ip link set tsh1 down
sleep "$step"; echo "soak fault phase: t=$(( 3 * step ))s healing both"; ip netns exec "${NS[0]}" iptables -D INPUT -j DROP; ip link set tsh1 up
wait $BENCH
echo "soak fault phase (${SECS} s, 8 connections through a pool of three hosts, defaults):"
cat "$OUT"
echo
rm -f "$XML" "$OUT"
