//! Spring Python's own performance monitor (`springpython.aop.PerformanceMonitorInterceptor`)
//! loads from the same XML in tether as in Spring Python 1.3, and prints its lines (`PREFIX
//! BEGIN`, `PREFIX END => SECONDS`, under the `springpython.aop` logger, at its `level`) as
//! Spring Python's logging does with `tether --log-format python`.
//!
//! Spring Python 1.3 itself gets no further than the first line: its module calls a `timing`
//! module it never imports (Python 2.7 has none), so every call raises `NameError` after
//! `BEGIN`. The test checks that this is still what it does (the first line is compared; the
//! rest is what the class was written to print, which tether prints).
mod common;
use common::*;
use std::process::Command;

const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
    <object id="service" class="server.Service"/>
    <int id="info">20</int>
    <object id="plain" class="springpython.aop.PerformanceMonitorInterceptor"/>
    <object id="named" class="springpython.aop.PerformanceMonitorInterceptor">
        <property name="prefix"><value>get_data</value></property>
        <property name="level"><ref object="info"/></property>
    </object>
    <object id="monitored" class="springpython.aop.ProxyFactoryObject">
        <property name="target"><ref object="service"/></property>
        <property name="interceptors"><list><ref object="plain"/><ref object="named"/></list></property>
    </object>
</objects>
"#;

/// `NAME - LEVEL - MESSAGE` with an END line's seconds checked (a number with a point, as
/// Python prints a float) and replaced by `S`.
fn normalized(line: &str) -> String {
    match line.split_once(" END => ") {
        Some((head, secs)) => {
            let ok = secs.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.bytes().all(|c| c.is_ascii_digit())
            });
            assert!(ok, "seconds not as Python prints them: {line:?}");
            format!("{head} END => S")
        }
        None => line.to_string(),
    }
}

#[test]
fn spring_pythons_performance_monitor_prints_its_lines() {
    let dir = std::env::temp_dir().join(format!("tether-aop-monitor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("monitor.xml");
    std::fs::write(&file, XML).unwrap();

    // Spring Python 1.3 on Python 2.7, the seed's server.Service as the target.
    let out = python2()
        .arg(root().join("crates/tether-cli/tests/python2/aop_monitor_peer.py"))
        .arg(root().join("examples/quickstart/python"))
        .arg(&file)
        .arg("monitored")
        .output()
        .expect("run python2");
    let spring = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{spring}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spring: Vec<&str> = spring.lines().collect();
    assert_eq!(
        spring,
        [
            "springpython.aop - DEBUG - None BEGIN",
            "RAISED NameError: global name 'timing' is not defined"
        ],
        "Spring Python 1.3's monitor no longer fails as it did"
    );

    // tether, the same file, one call from the shell.
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["--log-format", "python", "call", "--context"])
        .arg(&file)
        .args(["monitored", "get_data", "'Hello'"])
        .env("TETHER_LOG", "springpython.aop=debug")
        .output()
        .expect("run tether call");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_eq!(stdout.trim(), "'You got remote data => Hello'");
    // `%(asctime)s - %(name)s - %(levelname)s - %(message)s`: the time left out.
    let ours: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.split_once(" - ").map(|(_, rest)| rest))
        .filter(|rest| rest.starts_with("springpython.aop - "))
        .map(normalized)
        .collect();
    assert_eq!(
        ours,
        [
            "springpython.aop - DEBUG - None BEGIN",
            "springpython.aop - INFO - get_data BEGIN",
            "springpython.aop - INFO - get_data END => S",
            "springpython.aop - DEBUG - None END => S",
        ],
        "{stderr}"
    );
    assert_eq!(ours[0], spring[0]);
}
