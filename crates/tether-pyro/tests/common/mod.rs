//! Shared test helpers: finding the Python peers, starting and stopping processes (killed on
//! drop), and starting an in-process tether daemon with the echo service.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_core::echo::{EchoService, ECHO_OBJECT_ID};
use tether_pyro::serializer::Serializer;
use tether_pyro::{Daemon, DaemonConfig};

/// Every serializer tether speaks.
pub const SERIALIZERS: [Serializer; 4] = [
    Serializer::Serpent,
    Serializer::Json,
    Serializer::Msgpack,
    Serializer::Marshal,
];

/// A script under tests/python.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

/// A child process killed (and reaped) on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a Python server whose stdout prints a line containing `marker` followed by a URI;
/// returns the process and the URI (the last word of that line).
pub fn start_python_server(args: &[&str], marker: &str) -> (Proc, String) {
    start_python_server_env(args, &[], marker)
}

/// [`start_python_server`] with extra environment variables (e.g. `PYRO_HMAC_KEY`).
pub fn start_python_server_env(
    args: &[&str],
    env: &[(&str, &str)],
    marker: &str,
) -> (Proc, String) {
    let mut c = Command::new(python());
    c.args(args)
        .envs(env.iter().copied())
        .env("PYTHONUNBUFFERED", "1");
    start_server_command(c, marker)
}

/// Python's own echo server on 127.0.0.1.
pub fn python_echoserver() -> (Proc, String) {
    start_python_server(
        &["-m", "Pyro5.utils.echoserver", "-H", "127.0.0.1", "-p", "0"],
        "echo uri:",
    )
}

/// Python's Pyro4 echo server on 127.0.0.1, its messages signed with `hmac` when given.
pub fn python_pyro4_echoserver(hmac: Option<&str>) -> (Proc, String) {
    let env: Vec<(&str, &str)> = hmac.map(|k| ("PYRO_HMAC_KEY", k)).into_iter().collect();
    start_python_server_env(
        &["-m", "Pyro4.test.echoserver", "-H", "127.0.0.1", "-p", "0"],
        &env,
        "echo uri:",
    )
}

/// Starts a Python 2 server (see [`python2`]) that prints `marker` and a URL.
pub fn start_python2_server(args: &[&str], env: &[(&str, &str)], marker: &str) -> (Proc, String) {
    let mut c = python2();
    c.args(args).envs(env.iter().copied());
    start_server_command(c, marker)
}

/// Runs a Python 2 script to completion (bounded) and returns its stdout; panics on failure.
pub fn run_python2(args: &[&str], env: &[(&str, &str)], timeout: Duration) -> String {
    let mut c = python2();
    c.args(args).envs(env.iter().copied());
    run_command(c, timeout)
}

/// Starts a server process whose stdout prints a line with `marker` and a URL (its last word).
pub fn start_server_command(mut c: Command, marker: &str) -> (Proc, String) {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start server");
    let stdout = child.stdout.take().expect("stdout");
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    let marker = marker.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(&marker) {
                let _ = tx.send(line.split_whitespace().last().unwrap_or("").to_string());
            }
        }
    });
    let uri = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server did not print its uri in 30 s");
    (proc, uri)
}

/// Runs a Python script to completion (bounded) and returns its stdout; panics on failure.
pub fn run_python(args: &[&str], timeout: Duration) -> String {
    let mut c = Command::new(python());
    c.args(args)
        .env("PYTHONUNBUFFERED", "1")
        // Fixed str hashing: set iteration order is then the same in every run.
        .env("PYTHONHASHSEED", "0");
    run_command(c, timeout)
}

/// Runs a command to completion (bounded, killed on timeout) and returns its stdout; panics
/// on failure.
pub fn run_command(mut c: Command, timeout: Duration) -> String {
    let args = format!("{c:?}");
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let mut proc = Proc(child);
    let start = Instant::now();
    let status = loop {
        if let Some(st) = proc.0.try_wait().expect("wait") {
            break st;
        }
        assert!(
            start.elapsed() < timeout,
            "{args} did not finish in {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    assert!(
        status.success(),
        "{args} failed: {status}\nstdout:\n{out}\nstderr:\n{err}"
    );
    out
}

/// An in-process tether daemon on 127.0.0.1 serving the echo service as `test.echoserver`.
pub async fn tether_echo(config: DaemonConfig) -> (Daemon, String, EchoService) {
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        ..config
    })
    .await
    .expect("bind");
    let echo =
        EchoService::with_error_texts(false, [("pyro4", tether_pyro::pyro4::ECHO_ERROR_TEXT)]);
    let uri = daemon
        .register(ECHO_OBJECT_ID, Arc::new(echo.clone()))
        .expect("register");
    (daemon, uri, echo)
}

/// Bounds an async test step.
pub async fn within<T>(secs: u64, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), fut)
        .await
        .expect("test step timed out")
}

use tether_core::{AttrInfo, BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value};
#[allow(unused_imports)]
pub use tether_test_support::{python, python2, root as workspace_root};
use tokio::sync::{Mutex as AsyncMutex, Notify};

/// A hand-written service exercising what the daemon must handle: kwargs, attributes,
/// exceptions, panics, oneway and calls that block until released.
#[derive(Default)]
pub struct TestService {
    pub name: std::sync::Mutex<String>,
    pub events: AsyncMutex<Vec<Value>>,
    pub release: Notify,
    /// How many `wait_release` calls have started.
    pub waiting: std::sync::atomic::AtomicUsize,
}

static TEST_METHODS: [MethodInfo; 10] = [
    MethodInfo {
        name: "echo",
        params: &["data"],
        oneway: false,
    },
    MethodInfo {
        name: "greet",
        params: &["greeting", "name"],
        oneway: false,
    },
    MethodInfo {
        name: "fail",
        params: &["text"],
        oneway: false,
    },
    MethodInfo {
        name: "boom",
        params: &[],
        oneway: false,
    },
    MethodInfo {
        name: "panic",
        params: &[],
        oneway: false,
    },
    MethodInfo {
        name: "wait_release",
        params: &[],
        oneway: false,
    },
    MethodInfo {
        name: "release",
        params: &[],
        oneway: false,
    },
    MethodInfo {
        name: "notify",
        params: &["msg"],
        oneway: true,
    },
    MethodInfo {
        name: "events",
        params: &[],
        oneway: false,
    },
    MethodInfo {
        name: "__len__",
        params: &[],
        oneway: false,
    },
];
static TEST_ATTRS: [AttrInfo; 2] = [
    AttrInfo {
        name: "name",
        writable: true,
    },
    AttrInfo {
        name: "readonly",
        writable: false,
    },
];

impl TestService {
    async fn run(&self, call: Call) -> Result<Value, RemoteError> {
        match call.method.as_str() {
            tether_core::GETATTR => {
                return match call.args[0].as_str() {
                    Some("name") => Ok(Value::str(self.name.lock().unwrap().clone())),
                    Some("readonly") => Ok(Value::str("fixed")),
                    _ => Err(RemoteError::attribute_error("no such attribute")),
                }
            }
            tether_core::SETATTR => {
                *self.name.lock().unwrap() = call.args[1].as_str().unwrap_or("?").to_string();
                return Ok(Value::None);
            }
            _ => {}
        }
        let Some(info) = TEST_METHODS.iter().find(|m| m.name == call.method) else {
            return Err(RemoteError::attribute_error(format!(
                "'TestService' object has no attribute '{}'",
                call.method
            )));
        };
        let args = tether_core::bind_args(info.name, info.params, call.args, call.kwargs)?;
        match info.name {
            "echo" => Ok(args[0].clone()),
            "greet" => Ok(Value::str(format!("{}, {}!", args[0], args[1]))),
            "fail" => Err(RemoteError::value_error(format!(
                "bad param: {}",
                args[0].as_str().unwrap_or("?")
            ))),
            "boom" => Err(RemoteError::exception("com.example.Boom", "boom")),
            "panic" => panic!("deliberate panic in a service method"),
            "wait_release" => {
                self.waiting
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                self.release.notified().await;
                Ok(Value::str("released"))
            }
            "release" => {
                self.release.notify_waiters();
                Ok(Value::None)
            }
            "notify" => {
                if args[0] == Value::str("block") {
                    self.release.notified().await;
                }
                self.events.lock().await.push(args[0].clone());
                Ok(Value::None)
            }
            "events" => Ok(Value::List(self.events.lock().await.clone())),
            "__len__" => Ok(Value::Int(42)),
            _ => unreachable!(),
        }
    }
}

impl Dispatch for TestService {
    fn methods(&self) -> &[MethodInfo] {
        &TEST_METHODS
    }
    fn attrs(&self) -> &[AttrInfo] {
        &TEST_ATTRS
    }
    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(self.run(call))
    }
}

/// A tether daemon on 127.0.0.1 serving a [`TestService`] as `test.service`.
pub async fn tether_test_service(config: DaemonConfig) -> (Daemon, String, Arc<TestService>) {
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        ..config
    })
    .await
    .expect("bind");
    let svc = Arc::new(TestService {
        name: std::sync::Mutex::new("world".into()),
        ..Default::default()
    });
    let uri = daemon
        .register("test.service", svc.clone())
        .expect("register");
    (daemon, uri, svc)
}

/// Raw wire helpers for golden and bad-input tests.
pub mod raw {
    use std::time::Duration;
    use tether_pyro::pyro5::{msg_type, Header, HEADER_SIZE};
    use tether_pyro::serializer::Serializer;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// One whole frame with the given header fields and payload.
    pub fn frame(ty: u8, ser: u8, flags: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
        let mut h = Header::new(ty, ser, flags, seq);
        h.data_len = payload.len() as u32;
        let mut head = [0u8; HEADER_SIZE];
        h.encode(&mut head);
        let mut out = head.to_vec();
        out.extend_from_slice(payload);
        out
    }

    /// A CONNECT frame for `object` in `ser`.
    pub fn connect(ser: Serializer, object: &str) -> Vec<u8> {
        let hello = tether_core::Value::Map(vec![
            (
                tether_core::Value::str("handshake"),
                tether_core::Value::str("hello"),
            ),
            (
                tether_core::Value::str("object"),
                tether_core::Value::str(object),
            ),
        ]);
        let mut payload = Vec::new();
        ser.encode(&hello, &mut payload).unwrap();
        frame(
            msg_type::CONNECT,
            tether_pyro::pyro5::serializer_id(ser),
            0,
            0,
            &payload,
        )
    }

    /// Connects to the daemon at `addr`.
    pub async fn dial(addr: std::net::SocketAddr) -> TcpStream {
        TcpStream::connect(addr).await.unwrap()
    }

    /// What came back: a frame (header, payload), or the connection closed.
    #[derive(Debug)]
    pub enum Got {
        Frame(Header, Vec<u8>),
        Closed,
    }

    /// Reads one frame or EOF (bounded to 10 s; a stall fails the test).
    pub async fn read(s: &mut TcpStream) -> Got {
        tokio::time::timeout(Duration::from_secs(10), async {
            let mut head = [0u8; HEADER_SIZE];
            let mut n = 0;
            while n < HEADER_SIZE {
                match s.read(&mut head[n..]).await {
                    Ok(0) | Err(_) => return Got::Closed,
                    Ok(k) => n += k,
                }
            }
            let h = Header::parse(&head, 1 << 30).expect("server sent a valid header");
            let mut body = vec![0u8; h.body_len() as usize];
            if s.read_exact(&mut body).await.is_err() {
                return Got::Closed;
            }
            Got::Frame(h, body[h.annotations_len as usize..].to_vec())
        })
        .await
        .expect("server neither replied nor closed within 10 s")
    }

    /// Sends bytes (ignoring errors: the server may already have closed).
    pub async fn send(s: &mut TcpStream, bytes: &[u8]) {
        let _ = s.write_all(bytes).await;
    }

    /// Connects and completes a handshake for `object`.
    pub async fn handshaken(
        addr: std::net::SocketAddr,
        ser: Serializer,
        object: &str,
    ) -> TcpStream {
        let mut s = dial(addr).await;
        send(&mut s, &connect(ser, object)).await;
        match read(&mut s).await {
            Got::Frame(h, _) => assert_eq!(h.msg_type, msg_type::CONNECTOK),
            Got::Closed => panic!("handshake refused"),
        }
        s
    }
}
