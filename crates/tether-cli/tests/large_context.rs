//! A context of 180,000 objects starts, is ready, and exits after SIGTERM (shutdown is linear
//! in the number of objects: it was quadratic, over 15 s at this size). The bounds below are
//! liveness bounds for a debug build on a slow machine, not timings; the README has the
//! figures.

mod common;

use common::start_until;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn a_context_of_180k_objects_starts_and_stops() {
    let dir = std::env::temp_dir().join(format!("tether-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("large.xml");
    let mut text = String::with_capacity(180_000 * 48);
    text.push_str("<?xml version=\"1.0\"?>\n<objects xmlns=\"http://www.springframework.org/springpython/schema/objects/1.1\">\n");
    for i in 0..180_000 {
        text.push_str(&format!(
            "  <object id=\"o{i}\" class=\"server.Service\"/>\n"
        ));
    }
    text.push_str("</objects>\n");
    std::fs::write(&xml, text).unwrap();
    let (proc, lines) = start_until(
        Command::new(env!("CARGO_BIN_EXE_tether")).args([
            "run",
            "--admin",
            "127.0.0.1:0",
            xml.to_str().unwrap(),
        ]),
        "admin uri:",
    );
    let admin = lines
        .iter()
        .find_map(|l| l.strip_prefix("admin uri: http://"))
        .expect("admin uri")
        .to_string();
    common::wait_ready(&format!("http://{admin}"), Duration::from_secs(120));
    let mut child = proc;
    child.signal("TERM");
    let end = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.0.try_wait().expect("wait") {
            break st;
        }
        assert!(Instant::now() < end, "no exit within 60 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
