//! A server process's CPU time, read from /proc, for the rows that report CPU per call.

/// CPU time of process `pid` so far, in nanoseconds, two ways: the sum over its live threads'
/// `/proc/PID/task/*/schedstat` (nanoseconds, but a thread that has exited is gone from it, and
/// Pyro 3's and Python's servers run a thread per connection), and `/proc/PID/stat`'s utime +
/// stime (every thread, dead ones included, in 10 ms ticks).
pub fn process_cpu_ns(pid: u32) -> Option<(u64, u64)> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut live = 0u64;
    for t in tasks.flatten() {
        let s = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
        live += s
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at its closing parenthesis;
    // utime and stime are fields 14 and 15 of the whole line.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    Some((live, ticks * 1_000_000_000 / hz))
}

/// The CPU a process spent between two readings of [`process_cpu_ns`]: the larger of the two
/// measures (the fine one misses exited threads, the coarse one is quantised).
pub fn cpu_between(a: (u64, u64), b: (u64, u64)) -> u64 {
    b.0.saturating_sub(a.0).max(b.1.saturating_sub(a.1))
}
