//! etcd v3 through its JSON gateway (`/v3/...` over HTTP, what every etcd 3.4+ serves on its
//! client port): leases, puts, range reads and a watch. No gRPC stack and no code generation
//! (`protoc`) are needed for the handful of calls discovery makes; keys and values travel
//! base64-encoded in JSON, as the gateway wants.
//!
//! - [`Registration`]: an exporter's URL at `<prefix><name>/<id>` under a lease of `ttl`,
//!   kept alive every `ttl / 3`; [`Registration::close`] deletes it and revokes the lease.
//!   If the process dies, the lease expires and the key goes with it.
//! - [`Watch`]: the URL set of every value under a prefix: a range read, then a watch
//!   from the next revision; on a broken watch it reads and watches again (bounded back-off).

use base64::Engine as _;
use serde_json::{json, Value as Json};
use std::sync::Arc;
use std::time::Duration;
use tether_core::ticker::Ticker;
use tether_core::RemoteError;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;

const LOG: &str = "tether::cluster::etcd";
/// Most bytes of one gateway reply (a range over many keys included).
const MAX_REPLY: usize = 16 << 20;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

fn unb64(v: &Json) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v.as_str()?)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The key just past every key with this prefix (etcd's `range_end` for a prefix).
fn prefix_end(prefix: &str) -> String {
    let mut b = prefix.as_bytes().to_vec();
    while let Some(last) = b.pop() {
        if last < 0xff {
            b.push(last + 1);
            return String::from_utf8_lossy(&b).into_owned();
        }
    }
    "\0".into()
}

/// An etcd cluster's client: one or more members (`host:port[,host:port...]`), the first that
/// answers used until it fails, then the next; optionally a user and password (etcd's
/// authentication: a token asked for once and again when it expires).
#[derive(Clone, Debug)]
pub struct EtcdClient {
    members: Arc<Vec<(String, u16)>>,
    current: Arc<std::sync::atomic::AtomicUsize>,
    timeout: Duration,
    auth: Option<Arc<Auth>>,
    tls: Option<tether_tls::ClientTls>,
}

/// A connection to a member: TCP, or TLS over it.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

#[derive(Debug)]
struct Auth {
    user: String,
    password: String,
    token: std::sync::Mutex<Option<String>>,
}

fn err(what: impl std::fmt::Display) -> RemoteError {
    RemoteError::connection(format!("etcd: {what}"))
}

/// Most members an endpoint list may name.
const MAX_MEMBERS: usize = 16;

/// TLS to etcd from the query of a discovery URL: `ca_certs=FILE` (required: the CAs the
/// members' certificates chain to), `certfile=FILE` and `keyfile=FILE` (a client certificate,
/// for members started with `--client-cert-auth`). The members' names are checked against
/// their certificates.
fn tls_of(e: &str, query: &str) -> Result<Option<tether_tls::ClientTls>, RemoteError> {
    let mut ca = None;
    let mut cert = None;
    let mut key = None;
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        match kv.split_once('=') {
            Some(("ca_certs", v)) => ca = Some(v.to_string()),
            Some(("certfile", v)) => cert = Some(v.to_string()),
            Some(("keyfile", v)) => key = Some(v.to_string()),
            _ => {
                return Err(RemoteError::config(format!(
                    "etcd endpoint {e:?}: unknown setting {kv:?} (ca_certs, certfile, keyfile)"
                )))
            }
        }
    }
    let Some(ca) = ca else {
        return Err(RemoteError::config(format!(
            "etcd endpoint {e:?}: TLS needs ca_certs=FILE"
        )));
    };
    let mut settings = tether_tls::ClientTlsSettings::new(ca);
    if let Some(c) = cert {
        let k = key.unwrap_or_else(|| c.clone());
        settings = settings.client_cert(c, k);
    }
    tether_tls::ClientTls::new(&settings)
        .map(Some)
        .map_err(|err| RemoteError::config(format!("etcd endpoint {e:?}: {err}")))
}

fn parse_member(e: &str, m: &str) -> Result<(String, u16), RemoteError> {
    let (host, port) = match m.rsplit_once(':') {
        Some(("", _)) => {
            return Err(RemoteError::config(format!(
                "etcd endpoint {e:?}: no host in {m:?}"
            )))
        }
        Some((h, p)) => (
            h.trim_matches(['[', ']']).to_string(),
            p.parse().map_err(|_| {
                RemoteError::config(format!("etcd endpoint {e:?}: bad port in {m:?}"))
            })?,
        ),
        _ => (m.to_string(), 2379),
    };
    if host.is_empty() {
        return Err(RemoteError::config(format!("etcd endpoint {e:?}: no host")));
    }
    Ok((host, port))
}

impl EtcdClient {
    /// Parses `http://host:port`, `host:port`, `etcd://host:port`, a comma-separated list of
    /// members (`etcd://h1:p1,h2:p2,h3:p3`), and a `user:password@` in front of them; does no
    /// I/O.
    pub fn new(endpoint: &str) -> Result<EtcdClient, RemoteError> {
        let e = endpoint.trim();
        let (e, query) = match e.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (e, None),
        };
        let tls = match query {
            Some(q) => tls_of(endpoint, q)?,
            None => None,
        };
        let rest = e
            .strip_prefix("http://")
            .or_else(|| e.strip_prefix("etcd://"))
            .unwrap_or(e);
        let rest = rest.split('/').next().unwrap_or("");
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((cred, hosts)) => {
                let (user, password) = cred.split_once(':').ok_or_else(|| {
                    RemoteError::config(format!("etcd endpoint {e:?}: expected user:password@"))
                })?;
                (
                    Some(Arc::new(Auth {
                        user: user.to_string(),
                        password: password.to_string(),
                        token: std::sync::Mutex::new(None),
                    })),
                    hosts,
                )
            }
            None => (None, rest),
        };
        let members = rest
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(|m| parse_member(e, m))
            .collect::<Result<Vec<_>, _>>()?;
        if members.is_empty() {
            return Err(RemoteError::config(format!("etcd endpoint {e:?}: no host")));
        }
        if members.len() > MAX_MEMBERS {
            return Err(RemoteError::config(format!(
                "etcd endpoint {e:?}: more than {MAX_MEMBERS} members"
            )));
        }
        Ok(EtcdClient {
            members: Arc::new(members),
            current: Arc::default(),
            timeout: Duration::from_secs(5),
            auth,
            tls,
        })
    }

    /// The members, `host:port`.
    pub fn members(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|(h, p)| format!("{h}:{p}"))
            .collect()
    }

    /// Connects to the member in use, or the next ones in turn when it does not answer; the
    /// one that answers is used from then on.
    async fn connect(&self) -> Result<(Box<dyn Io>, String), RemoteError> {
        let n = self.members.len();
        let first = self.current.load(std::sync::atomic::Ordering::Relaxed) % n;
        let mut last = String::new();
        for k in 0..n {
            let i = (first + k) % n;
            let (host, port) = &self.members[i];
            let connect = TcpStream::connect((host.as_str(), *port));
            match tokio::time::timeout(Duration::from_secs(2), connect).await {
                Ok(Ok(s)) => {
                    s.set_nodelay(true).ok();
                    let io: Box<dyn Io> = match &self.tls {
                        None => Box::new(s),
                        Some(tls) => match tls.connect(host, s, Duration::from_secs(5)).await {
                            Ok(t) => Box::new(t),
                            Err(e) => {
                                last = format!("TLS with {host}:{port}: {e}");
                                continue;
                            }
                        },
                    };
                    if i != first {
                        tracing::info!(target: LOG, member = %format!("{host}:{port}"), "etcd: using another member");
                        self.current.store(i, std::sync::atomic::Ordering::Relaxed);
                    }
                    return Ok((io, format!("{host}:{port}")));
                }
                Ok(Err(e)) => last = format!("cannot connect to {host}:{port}: {e}"),
                Err(_) => last = format!("connecting to {host}:{port} timed out"),
            }
        }
        Err(err(last))
    }

    /// Moves to the next member (the one in use stopped answering in time).
    fn next_member(&self) {
        self.current
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    async fn open(&self, path: &str, body: &Json) -> Result<BufReader<Box<dyn Io>>, RemoteError> {
        let token = match &self.auth {
            Some(a) if path != "/v3/auth/authenticate" => Some(self.token(a, false).await?),
            _ => None,
        };
        match self.open_with(path, body, token.as_deref()).await {
            // An expired token: ask for a new one, once.
            Err(e) if self.auth.is_some() && e.message().contains("token") => {
                let a = self.auth.as_ref().ok_or_else(|| err("no credentials"))?;
                let t = self.token(a, true).await?;
                self.open_with(path, body, Some(&t)).await
            }
            r => r,
        }
    }

    async fn token(&self, a: &Auth, fresh: bool) -> Result<String, RemoteError> {
        if !fresh {
            if let Some(t) = a.token.lock().map_err(|_| err("token lock"))?.clone() {
                return Ok(t);
            }
        }
        let body = json!({ "name": a.user, "password": a.password });
        let mut r = self.open_with("/v3/auth/authenticate", &body, None).await?;
        let reply = read_messages(&mut r, 1)
            .await?
            .pop()
            .ok_or_else(|| err("authenticate: an empty reply"))?;
        let t = reply["token"]
            .as_str()
            .ok_or_else(|| err(format!("authenticate answered {reply}")))?
            .to_string();
        *a.token.lock().map_err(|_| err("token lock"))? = Some(t.clone());
        Ok(t)
    }

    async fn open_with(
        &self,
        path: &str,
        body: &Json,
        token: Option<&str>,
    ) -> Result<BufReader<Box<dyn Io>>, RemoteError> {
        let (mut s, member) = self.connect().await?;
        let body = body.to_string();
        let auth = token
            .map(|t| format!("Authorization: {t}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: {member}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.map_err(err)?;
        // Over TLS the request's last records may wait in the session until flushed.
        s.flush().await.map_err(err)?;
        let mut r = BufReader::new(s);
        let mut status = String::new();
        (&mut r)
            .take(8192)
            .read_line(&mut status)
            .await
            .map_err(err)?;
        if !status.starts_with("HTTP/1.1 200") && !status.starts_with("HTTP/1.0 200") {
            let mut rest = Vec::new();
            let _ = (&mut r).take(2048).read_to_end(&mut rest).await;
            return Err(err(format!(
                "{path}: {} {}",
                status.trim(),
                String::from_utf8_lossy(&rest).trim()
            )));
        }
        // Skip the headers: the body (chunked, or framed by Content-Length and the close this
        // request asked for) is read by `read_messages`, which passes over chunk-size lines.
        for _ in 0..100 {
            let mut line = String::new();
            // One more byte than allowed tells a long line from one that just fits.
            let n = (&mut r)
                .take(8193)
                .read_line(&mut line)
                .await
                .map_err(err)?;
            if n == 0 || line == "\r\n" {
                return Ok(r);
            }
            if n > 8192 {
                return Err(err("a header line is too long"));
            }
        }
        Err(err("more than 100 header lines"))
    }

    /// One request with one JSON reply.
    async fn call(&self, path: &str, body: Json) -> Result<Json, RemoteError> {
        let work = async {
            let mut r = self.open(path, &body).await?;
            let mut messages = read_messages(&mut r, 1).await?;
            messages
                .pop()
                .ok_or_else(|| err(format!("{path}: an empty reply")))
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => {
                // A member that accepts and then says nothing (cut off from the others, or
                // stopped): the next call goes to another.
                self.next_member();
                Err(RemoteError::timeout(format!(
                    "etcd {path}: no reply in time"
                )))
            }
        }
    }

    /// Grants a lease of `ttl` seconds; returns its id.
    pub async fn grant(&self, ttl: u64) -> Result<String, RemoteError> {
        let r = self.call("/v3/lease/grant", json!({ "TTL": ttl })).await?;
        r["ID"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| err(format!("lease grant answered {r}")))
    }

    /// Refreshes a lease; false when it has expired.
    pub async fn keep_alive(&self, lease: &str) -> Result<bool, RemoteError> {
        let r = self
            .call("/v3/lease/keepalive", json!({ "ID": lease }))
            .await?;
        let ttl = r["result"]["TTL"]
            .as_str()
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(0);
        Ok(ttl > 0)
    }

    /// Revokes a lease (its keys go with it).
    pub async fn revoke(&self, lease: &str) -> Result<(), RemoteError> {
        self.call("/v3/lease/revoke", json!({ "ID": lease }))
            .await?;
        Ok(())
    }

    /// Puts `key = value`, under `lease` if given.
    pub async fn put(
        &self,
        key: &str,
        value: &str,
        lease: Option<&str>,
    ) -> Result<(), RemoteError> {
        let mut body = json!({ "key": b64(key), "value": b64(value) });
        if let Some(l) = lease {
            body["lease"] = json!(l);
        }
        self.call("/v3/kv/put", body).await?;
        Ok(())
    }

    /// Deletes `key`.
    pub async fn delete(&self, key: &str) -> Result<(), RemoteError> {
        self.call("/v3/kv/deleterange", json!({ "key": b64(key) }))
            .await?;
        Ok(())
    }

    /// Every `(key, value)` under `prefix`, and the store's revision.
    pub async fn list(&self, prefix: &str) -> Result<(Vec<(String, String)>, i64), RemoteError> {
        let r = self
            .call(
                "/v3/kv/range",
                json!({ "key": b64(prefix), "range_end": b64(&prefix_end(prefix)) }),
            )
            .await?;
        let rev = r["header"]["revision"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let kvs = r["kvs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|kv| Some((unb64(&kv["key"])?, unb64(&kv["value"])?)))
                    .collect()
            })
            .unwrap_or_default();
        Ok((kvs, rev))
    }
}

/// Reads newline-separated JSON messages of a (chunked or plain) body: at most `max`, or
/// until the end of the stream.
async fn read_messages<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Vec<Json>, RemoteError> {
    let mut out = Vec::new();
    let mut pending = Vec::new();
    let mut total = 0usize;
    while out.len() < max {
        let mut line = Vec::new();
        // Bounded: a line without end stops at what is left of the reply's budget.
        let left = (MAX_REPLY - total) as u64 + 1;
        let n = (&mut *r)
            .take(left)
            .read_until(b'\n', &mut line)
            .await
            .map_err(err)?;
        if n == 0 {
            break;
        }
        total += n;
        if total > MAX_REPLY {
            return Err(err("a reply over 16 MiB"));
        }
        let text = String::from_utf8_lossy(&line);
        let t = text.trim();
        // Chunk-size lines are hex numbers; JSON starts with '{'.
        if t.is_empty() || t.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        pending.extend_from_slice(t.as_bytes());
        match serde_json::from_slice::<Json>(&pending) {
            Ok(v) => {
                pending.clear();
                if let Some(e) = v.get("error") {
                    return Err(err(format!("gateway error: {e}")));
                }
                out.push(v);
            }
            Err(e) if e.is_eof() => continue,
            Err(e) => return Err(err(format!("bad JSON from the gateway: {e}"))),
        }
    }
    Ok(out)
}

/// Reads `data` as a gateway's reply body (the fuzz target `etcd_reader`): every message
/// until the end or an error. Not an API.
#[doc(hidden)]
pub fn fuzz_read_messages(data: &[u8]) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let mut r = tokio::io::BufReader::new(data);
    let _ = rt.block_on(read_messages(&mut r, usize::MAX));
}

/// An exporter's entry in etcd, kept alive until closed (or the process dies).
pub struct Registration {
    client: EtcdClient,
    key: String,
    lease: String,
    task: tokio::task::JoinHandle<()>,
}

impl Registration {
    /// Puts `url` at `key` under a lease of `ttl` seconds (at least 2) and keeps the lease
    /// alive every `ttl / 3` (re-registering if it ever expired) on the current runtime.
    ///
    /// The period is kept by a [`Ticker`]: a timer pending for the registration's whole life would make every park of
    /// the runtime (every call of every server on it) pass a timeout to `epoll_wait`.
    pub async fn start(
        client: EtcdClient,
        key: &str,
        url: &str,
        ttl: u64,
    ) -> Result<Registration, RemoteError> {
        let ttl = ttl.max(2);
        let ticker = Ticker::every("tether-lease", Duration::from_millis(ttl * 1000 / 3));
        let lease = client.grant(ttl).await?;
        client.put(key, url, Some(&lease)).await?;
        let (c, k, u) = (client.clone(), key.to_string(), url.to_string());
        let mut current = lease.clone();
        let task = tokio::spawn(async move {
            loop {
                ticker.tick().await;
                match c.keep_alive(&current).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(target: LOG, key = %k, "lease expired: registering again");
                        if let Ok(l) = c.grant(ttl).await {
                            if c.put(&k, &u, Some(&l)).await.is_ok() {
                                current = l;
                            }
                        }
                    }
                    Err(e) => tracing::warn!(target: LOG, key = %k, "keep-alive failed: {e}"),
                }
            }
        });
        tracing::info!(target: LOG, %key, %url, ttl, "registered in etcd");
        Ok(Registration {
            client,
            key: key.to_string(),
            lease,
            task,
        })
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Deletes the entry and revokes its lease (a graceful shutdown).
    pub async fn close(self) {
        self.task.abort();
        let _ = self.client.delete(&self.key).await;
        let _ = self.client.revoke(&self.lease).await;
        tracing::info!(target: LOG, key = %self.key, "removed from etcd");
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every value under a prefix, followed live (see the module docs).
pub struct Watch {
    tx: watch::Sender<Vec<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Watch {
    /// Reads `prefix` and watches it on the current runtime. The first list is in when this
    /// returns (an unreachable etcd is an error here, later it only delays updates).
    pub async fn start(client: EtcdClient, prefix: &str) -> Result<Watch, RemoteError> {
        let (kvs, rev) = client.list(prefix).await?;
        let (tx, _) = watch::channel(values(&kvs));
        let sender = tx.clone();
        let prefix = prefix.to_string();
        let task = tokio::spawn(async move {
            let mut state: std::collections::BTreeMap<String, String> = kvs.into_iter().collect();
            let mut next = rev + 1;
            let mut pause = Duration::from_millis(100);
            loop {
                match follow(&client, &prefix, next, &mut state, &sender).await {
                    Ok(()) => pause = Duration::from_millis(100),
                    Err(e) => {
                        tracing::debug!(target: LOG, %prefix, "watch broke: {e}");
                    }
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
                // Catch up on whatever happened while no watch ran.
                if let Ok((kvs, rev)) = client.list(&prefix).await {
                    state = kvs.into_iter().collect();
                    next = rev + 1;
                    publish(&sender, &state);
                }
            }
        });
        Ok(Watch { tx, task })
    }
}

fn values(kvs: &[(String, String)]) -> Vec<String> {
    let mut v: Vec<String> = kvs.iter().map(|(_, v)| v.clone()).collect();
    v.sort();
    v.dedup();
    v
}

fn publish(tx: &watch::Sender<Vec<String>>, state: &std::collections::BTreeMap<String, String>) {
    let mut urls: Vec<String> = state.values().cloned().collect();
    urls.sort();
    urls.dedup();
    tx.send_if_modified(|cur| {
        let changed = *cur != urls;
        if changed {
            *cur = urls;
        }
        changed
    });
}

/// Runs one watch until it breaks, applying its events to `state`.
async fn follow(
    client: &EtcdClient,
    prefix: &str,
    from: i64,
    state: &mut std::collections::BTreeMap<String, String>,
    tx: &watch::Sender<Vec<String>>,
) -> Result<(), RemoteError> {
    let body = json!({ "create_request": {
        "key": b64(prefix),
        "range_end": b64(&prefix_end(prefix)),
        "start_revision": from.to_string(),
    }});
    let mut r = client.open("/v3/watch", &body).await?;
    loop {
        let msgs = read_messages(&mut r, 1).await?;
        let Some(m) = msgs.into_iter().next() else {
            return Ok(()); // the stream ended
        };
        let res = &m["result"];
        if res["canceled"].as_bool() == Some(true) {
            return Err(err(format!("watch canceled: {res}")));
        }
        let Some(events) = res["events"].as_array() else {
            continue;
        };
        for ev in events {
            let Some(key) = unb64(&ev["kv"]["key"]) else {
                continue;
            };
            if ev["type"].as_str() == Some("DELETE") {
                state.remove(&key);
            } else if let Some(v) = unb64(&ev["kv"]["value"]) {
                state.insert(key, v);
            }
        }
        publish(tx, state);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Watch {
    /// The current set (sorted, deduplicated), updated as it changes.
    pub fn subscribe(&self) -> watch::Receiver<Vec<String>> {
        self.tx.subscribe()
    }
}

/// Shared handle type for a watch a pool follows.
pub type SharedWatch = Arc<Watch>;
