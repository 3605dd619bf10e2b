//! Shared helpers: Python's xmlrpc peer (processes stopped by pid), and tether's twin of its
//! functions.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tether_core::{RemoteError, Value};
#[allow(unused_imports)]
pub use tether_test_support::python;
use tether_xmlrpc::Functions;

pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn peer() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python/xmlrpc_peer.py")
        .display()
        .to_string()
}

/// Python's SimpleXMLRPCServer; returns it and its URL.
pub fn python_server(tls_dir: Option<&str>) -> (Proc, String) {
    let mut cmd = Command::new(python());
    cmd.arg(peer()).arg("serve");
    if let Some(d) = tls_dir {
        cmd.arg(d);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let p = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(u) = l.strip_prefix("URL ") {
                let _ = tx.send(u.to_string());
            }
        }
    });
    (
        p,
        rx.recv_timeout(Duration::from_secs(30))
            .expect("python server URL"),
    )
}

/// Runs the peer script with `args` (bounded) and returns its stdout.
pub fn run_peer(args: &[&str]) -> String {
    let mut child = Command::new(python())
        .arg(peer())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let mut p = Proc(child);
    let start = Instant::now();
    let st = loop {
        if let Some(st) = p.0.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "peer did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let (o, e) = (o.join().unwrap(), e.join().unwrap());
    assert!(st.success(), "peer failed: {e}\n{o}");
    o
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int32(i) => Some(f64::from(*i)),
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// tether's twin of the Python peer's functions: echo, add, fail, pow.
pub fn twin() -> Functions {
    Functions::new()
        .add("echo", &["x"], |mut a| Ok(a.remove(0)))
        .add("add", &["a", "b"], |a| match (&a[0], &a[1]) {
            (Value::Int32(x), Value::Int32(y)) => Ok(Value::Int32(x.wrapping_add(*y))),
            (Value::Str(x), Value::Str(y)) => Ok(Value::Str(format!("{x}{y}"))),
            (x, y) => match (num(x), num(y)) {
                (Some(x), Some(y)) => Ok(Value::Float(x + y)),
                _ => Err(RemoteError::type_error("unsupported operand types for +")),
            },
        })
        .add("fail", &["msg"], |a| {
            Err(RemoteError::value_error(match &a[0] {
                Value::Str(s) => s.clone(),
                other => other.to_string(),
            }))
        })
        .add("pow", &["x", "y"], |a| match (&a[0], &a[1]) {
            (Value::Int32(x), Value::Int32(y)) if *y >= 0 => {
                Ok(Value::Int32(x.wrapping_pow(*y as u32)))
            }
            _ => Err(RemoteError::type_error("pow takes two ints")),
        })
}
