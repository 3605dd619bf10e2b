"""The timed sequential loop the Python bench clients share (same as drive.rs's): warm up,
then call until the time is up, and print one RESULT line with calls/s and latencies."""
import time


def run_seq(call, secs, warmup):
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        call()
    lat = []
    now = time.perf_counter_ns
    start = now()
    stop = start + int(secs * 1e9)
    while True:
        t = now()
        if t >= stop:
            break
        call()
        lat.append(now() - t)
    lat.sort()

    def pct(q):
        return lat[min(len(lat) - 1, round((len(lat) - 1) * q))] / 1000.0 if lat else 0.0

    print(f"RESULT calls={len(lat)} secs={(now() - start) / 1e9:.6f} p50_us={pct(0.5):.3f} p99_us={pct(0.99):.3f}",
          flush=True)
