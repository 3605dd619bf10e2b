//! `tether bench` as ghz is used: durations with units, an open loop at a fixed rate (never
//! more calls than the rate allows), a warm-up not counted, more callers than connections, CSV
//! and JSON summaries.

mod common;

use std::process::Command;

fn tether(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn rate_warmup_concurrency_and_formats() {
    let (_p, urls) = common::echo_servers(&["pyro5"]);
    let url = &urls[0];
    let (code, out) = tether(&[
        "bench", url, "echo", "1", "--rate", "50", "-z", "1s", "--warmup", "300ms", "--format",
        "csv",
    ]);
    assert_eq!(code, 0, "{out}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("calls,failed,calls_per_s,p50_us,p90_us,p99_us,max_us,connections,seconds,p999_us,min_us,mean_us")
    );
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let calls: u64 = row[0].parse().unwrap();
    // Open loop: at most what 50 calls a second allow in 1 s (the warm-up's calls not counted).
    assert!(calls <= 52, "{out}");
    assert_eq!(row[1], "0");
    let (code, out) = tether(&[
        "bench",
        url,
        "echo",
        "1",
        "-c",
        "2",
        "--concurrency",
        "6",
        "-n",
        "300",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("\"calls\": 300") && out.contains("\"connections\": 2"),
        "{out}"
    );
    // Every call is in the HDR histogram: the buckets add up to the calls.
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    let counted: u64 = v["histogram"]
        .as_array()
        .expect("histogram")
        .iter()
        .map(|b| b["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(counted, 300, "{out}");
    assert!(v["p999_us"].as_u64() >= v["p99_us"].as_u64(), "{out}");
    // Text: percentiles and a histogram of ten buckets; HTML: a page with the chart.
    let (code, out) = tether(&["bench", url, "echo", "1", "-n", "200"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("p99.9") && out.contains("latency histogram (us):"),
        "{out}"
    );
    assert_eq!(
        out.lines()
            .filter(|l| l.contains("] \t|") || l.contains("]\t|"))
            .count(),
        10,
        "{out}"
    );
    let (code, out) = tether(&["bench", url, "echo", "1", "-n", "200", "--format", "html"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("<!DOCTYPE html>") && out.contains("<svg") && out.contains("</html>"),
        "{out}"
    );
    let (code, _) = tether(&["bench", url, "echo", "1", "--rate", "-3"]);
    assert_eq!(code, 2);
    let (code, _) = tether(&["bench", url, "echo", "1", "-z", "ten"]);
    assert_eq!(code, 2);
}
