//! [`Pipeline`]: where finished spans go. A bounded queue, one worker thread that sends them
//! in batches every schedule delay (or when a batch is full, or when asked to flush), and the
//! exporters it sends to (OTLP, the console, memory).
//!
//! The worker is a plain thread with its own small runtime, so spans are exported whatever
//! runtime the program has (or none), and [`Pipeline::shutdown`] can flush them at exit from
//! synchronous code. It reads an export's reply only before its next export or at a flush, so
//! it does not go to sleep and wake again for every reply (a failed export is counted then).

use crate::otlp::{encode_request, OtlpClient, OtlpProtocol};
use crate::otlp_json::encode_request_json;
use crate::span::{AttrValue, SpanParts, SpanRecord};
use crate::stripe::{self, Padded};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Where a batch of spans goes.
pub enum Exporter {
    /// OTLP over HTTP (protobuf).
    Otlp(Box<OtlpClient>),
    /// One line per span on stderr (`OTEL_TRACES_EXPORTER=console`).
    Console,
    /// Kept in memory (tests, and programs that read their own spans).
    Memory(MemorySpans),
}

/// Spans kept in memory by [`Exporter::Memory`].
#[derive(Clone, Default)]
pub struct MemorySpans(Arc<Mutex<Vec<SpanRecord>>>);

impl MemorySpans {
    /// Every span exported so far.
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// How the pipeline batches (OpenTelemetry's `OTEL_BSP_*`).
#[derive(Clone, Debug)]
pub struct BatchSettings {
    /// Time between two exports (`OTEL_BSP_SCHEDULE_DELAY`). Default 5 s.
    pub schedule_delay: Duration,
    /// Most spans waiting in one stripe; more are dropped and counted
    /// (`OTEL_BSP_MAX_QUEUE_SIZE`). Threads queue spans into one of four stripes (so that the
    /// workers of a busy server do not share a lock per call), which bounds the whole queue
    /// at four times this. Default 2048.
    pub max_queue: usize,
    /// Most spans in one export (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`). Default 512.
    pub max_batch: usize,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings {
            schedule_delay: Duration::from_secs(5),
            max_queue: 2048,
            max_batch: 512,
        }
    }
}

/// The worker's state: flush tickets and the stop flag (the spans are in [`Inner::shards`]).
#[derive(Default)]
struct Queue {
    flush_asked: u64,
    flush_done: u64,
    stop: bool,
}

/// The spans one stripe queued: records, or (when the pipeline exports only OTLP) the spans
/// already encoded, back to back, with where each ends.
#[derive(Default)]
struct Shard {
    records: Vec<SpanRecord>,
    encoded: Vec<u8>,
    ends: Vec<usize>,
    /// The stripe whose queue these buffers were last (so they go back to it, at the size it
    /// needs).
    home: usize,
}

impl Shard {
    fn len(&self) -> usize {
        self.records.len() + self.ends.len()
    }
}

/// How many queues spans go into: threads share them by [stripe](crate::stripe).
const SHARDS: usize = 4;

struct Inner {
    /// Finished spans, one shard per [stripe](crate::stripe): the workers of a busy server
    /// each queue into their own, so no lock or counter is passed between them per call.
    shards: [Padded<Mutex<Shard>>; SHARDS],
    /// Spans are encoded by the thread that records them: every exporter is OTLP. Encoding
    /// there costs what it would cost on the exporter's thread, and saves moving a record,
    /// its allocations and their release on another thread.
    encode_early: bool,
    /// A shard reached a batch: the worker should not wait out the schedule delay.
    batch_ready: AtomicBool,
    stopped: AtomicBool,
    queue: Mutex<Queue>,
    wake: Condvar,
    done: Condvar,
    settings: BatchSettings,
    dropped: AtomicU64,
    failed: AtomicU64,
    exported: AtomicU64,
}

/// A running span pipeline.
pub struct Pipeline {
    inner: Arc<Inner>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Pipeline {
    /// Starts the worker for `exporters`, describing the process with `resource`.
    pub fn start(
        exporters: Vec<Exporter>,
        resource: Vec<(String, AttrValue)>,
        settings: BatchSettings,
    ) -> Arc<Pipeline> {
        let inner = Arc::new(Inner {
            shards: std::array::from_fn(|home| {
                Padded(Mutex::new(Shard {
                    home,
                    ..Shard::default()
                }))
            }),
            encode_early: !exporters.is_empty()
                && exporters.iter().all(
                    |e| matches!(e, Exporter::Otlp(c) if c.protocol() != OtlpProtocol::HttpJson),
                ),
            batch_ready: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            done: Condvar::new(),
            settings,
            dropped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            exported: AtomicU64::new(0),
        });
        let w = inner.clone();
        let worker = std::thread::Builder::new()
            .name("tether-spans".into())
            .spawn(move || work(w, exporters, resource))
            .ok();
        Arc::new(Pipeline {
            inner,
            worker: Mutex::new(worker),
        })
    }

    /// Queues a finished span (dropped and counted when its stripe's queue is full).
    pub fn record(&self, span: SpanRecord) {
        if self.inner.encode_early {
            self.record_parts(&span.parts());
        } else {
            self.push(|shard| shard.records.push(span));
        }
    }

    /// Whether spans are encoded as they are recorded (every exporter is OTLP).
    pub(crate) fn encodes_early(&self) -> bool {
        self.inner.encode_early
    }

    /// Queues a finished span given as parts (the tracing interceptor's way: nothing is
    /// copied into a record when the span is encoded at once).
    pub(crate) fn record_parts(&self, span: &SpanParts<'_>) {
        if self.inner.encode_early {
            self.push(|shard| {
                crate::otlp::encode_span(&mut shard.encoded, span);
                let end = shard.encoded.len();
                shard.ends.push(end);
            });
        } else {
            self.push(|shard| shard.records.push(span.to_record()));
        }
    }

    fn push(&self, add: impl FnOnce(&mut Shard)) {
        let inner = &*self.inner;
        let n = {
            let mut shard = inner.shards[stripe::mine().index % SHARDS]
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            // Each stripe holds at most `max_queue` spans.
            if shard.len() >= inner.settings.max_queue || inner.stopped.load(Ordering::Relaxed) {
                drop(shard);
                inner.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            add(&mut shard);
            shard.len()
        };
        // Wake the worker once, when a batch fills (a notify is a system call; every span
        // after that would pay it for nothing). The flag is set under the worker's lock, so
        // the worker either sees it when it checks or is already waiting when the notify
        // comes; the notify itself is outside the lock, so the worker, woken, does not find
        // the lock still held here and go back to sleep (two more switches on one CPU).
        if n == inner.settings.max_batch {
            {
                let _q = inner.queue.lock().unwrap_or_else(|p| p.into_inner());
                inner.batch_ready.store(true, Ordering::Relaxed);
            }
            inner.wake.notify_one();
        }
    }

    /// Exports every queued span now; waits at most `timeout`. Returns whether it finished.
    pub fn flush(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let mut q = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.flush_asked += 1;
        let ticket = q.flush_asked;
        self.inner.wake.notify_one();
        while q.flush_done < ticket {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || q.stop && self.worker_gone() {
                return false;
            }
            q = match self.inner.done.wait_timeout(q, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }

    fn worker_gone(&self) -> bool {
        self.worker
            .lock()
            .map(|w| w.as_ref().is_none_or(|h| h.is_finished()))
            .unwrap_or(true)
    }

    /// Flushes (at most `timeout`) and stops the worker; later spans are dropped.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        let flushed = self.flush(timeout);
        {
            let mut q = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.stop = true;
            self.inner.stopped.store(true, Ordering::Relaxed);
            self.inner.wake.notify_one();
        }
        if let Some(h) = self.worker.lock().ok().and_then(|mut w| w.take()) {
            if flushed {
                let _ = h.join();
            }
        }
        flushed
    }

    /// (exported, dropped because the queue was full, lost in failed exports).
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.inner.exported.load(Ordering::Relaxed),
            self.inner.dropped.load(Ordering::Relaxed),
            self.inner.failed.load(Ordering::Relaxed),
        )
    }
}

fn work(inner: Arc<Inner>, exporters: Vec<Exporter>, resource: Vec<(String, AttrValue)>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::warn!(target: "tether::observe", "cannot start the span exporter: {e}");
            return;
        }
    };
    let mut warned = false;
    let otlp: Vec<&OtlpClient> = exporters
        .iter()
        .filter_map(|e| match e {
            Exporter::Otlp(c) => Some(&**c),
            _ => None,
        })
        .collect();
    // Emptied shards come back here, so the stripes keep their capacity instead of growing
    // from nothing after every export.
    let mut spares: Vec<Shard> = Vec::new();
    // What each stripe queued in the last round: encoded bytes, spans.
    let mut wanted = [(0usize, 0usize); SHARDS];
    // The last request of encoded spans, its reply not read yet, and the shards its body is
    // in: read at the next export or flush, when it has usually arrived (see below).
    // (`None` for the shards: this round's, still in `taken`.)
    let mut pending: Option<(Pending, Option<Vec<Shard>>)> = None;
    loop {
        let (ticket, stop) = {
            let mut q = inner.queue.lock().unwrap_or_else(|p| p.into_inner());
            let until = Instant::now() + inner.settings.schedule_delay;
            while !q.stop
                && q.flush_asked == q.flush_done
                && !inner.batch_ready.load(Ordering::Relaxed)
            {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                q = match inner.wake.wait_timeout(q, left) {
                    Ok((g, _)) => g,
                    Err(p) => p.into_inner().0,
                };
            }
            inner.batch_ready.store(false, Ordering::Relaxed);
            (q.flush_asked, q.stop)
        };
        // Spans take their times from the monotonic clock; follow the wall clock's steps.
        crate::span::resync_clock();
        let mut taken: Vec<Shard> = Vec::new();
        for (home, shard) in inner.shards.iter().enumerate() {
            // Each stripe gets back buffers it filled before (else the roomiest spare): a
            // busy stripe then fills a buffer as large as it needs, without growing it (and
            // copying it) again after every export.
            let spare = spares
                .iter()
                .position(|s| s.home == home)
                .or_else(|| (0..spares.len()).max_by_key(|&i| spares[i].encoded.capacity()))
                .map(|i| spares.swap_remove(i));
            let mut spare = spare.unwrap_or_default();
            spare.home = home;
            // Room for as many spans as the stripe queued last time (a quarter more): spans
            // are then encoded into it without its growing (a copy of all it holds) midway.
            let (bytes, spans) = wanted[home];
            spare.encoded.reserve(bytes + bytes / 4);
            spare.ends.reserve(spans + spans / 4);
            let t = std::mem::replace(
                &mut *shard.0.lock().unwrap_or_else(|p| p.into_inner()),
                spare,
            );
            wanted[home] = (t.encoded.len(), t.ends.len());
            if t.len() > 0 {
                taken.push(t);
            } else {
                spares.push(t);
            }
        }
        let max = inner.settings.max_batch.max(1);
        let records: Vec<SpanRecord> = taken
            .iter_mut()
            .flat_map(|t| std::mem::take(&mut t.records))
            .collect();
        // Encoded spans, `max` at a time, each request's body written from the shards where
        // the spans are. A request's reply is read only before the next request goes out (one
        // connection carries one request at a time) or at a flush: so the exporter does not
        // go to sleep after each request and wake for its reply, which costs a busy server
        // more than sending the spans.
        for chunk in chunks(&taken, max) {
            match pending.take() {
                Some((p, None)) => p.settle(&rt, &otlp, &taken, &inner, &mut warned),
                Some((p, Some(shards))) => {
                    p.settle(&rt, &otlp, &shards, &inner, &mut warned);
                    recycle(shards, &mut spares);
                }
                None => {}
            }
            let p = Pending::send(&rt, &otlp, chunk, &taken, &resource, &inner, &mut warned);
            pending = Some((p, None));
        }
        // The pending request's body is in this round's shards: they stay with it.
        if let Some((_, shards @ None)) = &mut pending {
            *shards = Some(std::mem::take(&mut taken));
        }
        recycle(taken, &mut spares);
        for chunk in records.chunks(max) {
            for e in &exporters {
                let r = match e {
                    Exporter::Otlp(c) => rt.block_on(c.export(match c.protocol() {
                        OtlpProtocol::HttpJson => encode_request_json(&resource, chunk),
                        OtlpProtocol::HttpProtobuf | OtlpProtocol::Grpc => {
                            encode_request(&resource, chunk)
                        }
                    })),
                    Exporter::Console => {
                        for s in chunk {
                            eprintln!("{}", console_line(s));
                        }
                        Ok(())
                    }
                    Exporter::Memory(m) => {
                        m.0.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .extend_from_slice(chunk);
                        Ok(())
                    }
                };
                account(&inner, chunk.len(), r, &mut warned);
            }
        }
        let flushing = {
            let q = inner.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.flush_done < ticket || stop
        };
        if flushing {
            if let Some((p, shards)) = pending.take() {
                let shards = shards.unwrap_or_default();
                p.settle(&rt, &otlp, &shards, &inner, &mut warned);
                recycle(shards, &mut spares);
            }
        }
        {
            let mut q = inner.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.flush_done = q.flush_done.max(ticket);
            inner.done.notify_all();
        }
        if stop {
            return;
        }
    }
}

/// Where one request's spans are: (shard, start, end) byte ranges of the shards' encodings.
type Chunk = Vec<(usize, usize, usize)>;

/// The encoded spans of `shards`, split into requests of at most `max` spans.
fn chunks(shards: &[Shard], max: usize) -> Vec<(Chunk, usize)> {
    let mut out = Vec::new();
    let (mut chunk, mut n): (Chunk, usize) = (Vec::new(), 0);
    for (si, sh) in shards.iter().enumerate() {
        let (mut i, mut from) = (0, 0);
        while i < sh.ends.len() {
            let j = (i + (max - n)).min(sh.ends.len());
            let to = sh.ends[j - 1];
            chunk.push((si, from, to));
            n += j - i;
            (i, from) = (j, to);
            if n == max {
                out.push((std::mem::take(&mut chunk), n));
                n = 0;
            }
        }
    }
    if n > 0 {
        out.push((chunk, n));
    }
    out
}

/// Emptied shards back among the spares.
fn recycle(shards: Vec<Shard>, spares: &mut Vec<Shard>) {
    for mut s in shards {
        s.records.clear();
        s.encoded.clear();
        s.ends.clear();
        spares.push(s);
    }
}

/// A request of encoded spans sent to every OTLP exporter, replies not read yet.
struct Pending {
    chunk: Chunk,
    spans: usize,
    /// The protobuf that comes before the spans (request, resource, scope).
    prefix: Vec<u8>,
    sent: Vec<(usize, crate::otlp::Sent)>,
}

impl Pending {
    /// Sends the spans of `chunk` (in `shards`) to every exporter; a send that fails is
    /// counted at once.
    fn send(
        rt: &tokio::runtime::Runtime,
        otlp: &[&OtlpClient],
        (chunk, spans): (Chunk, usize),
        shards: &[Shard],
        resource: &[(String, AttrValue)],
        inner: &Inner,
        warned: &mut bool,
    ) -> Pending {
        let len = chunk.iter().map(|(_, a, b)| b - a).sum();
        let prefix = crate::otlp::request_prefix(resource, len);
        let mut p = Pending {
            chunk,
            spans,
            prefix,
            sent: Vec::new(),
        };
        let parts = p.parts(shards);
        let mut sent = Vec::new();
        for (i, c) in otlp.iter().enumerate() {
            match rt.block_on(c.send(&parts)) {
                Ok(s) => sent.push((i, s)),
                Err(e) => account(inner, spans, Err(e), warned),
            }
        }
        p.sent = sent;
        p
    }

    fn parts<'a>(&'a self, shards: &'a [Shard]) -> Vec<&'a [u8]> {
        std::iter::once(&self.prefix[..])
            .chain(
                self.chunk
                    .iter()
                    .filter_map(|&(s, a, b)| shards.get(s).and_then(|s| s.encoded.get(a..b))),
            )
            .collect()
    }

    /// Reads the replies and counts the spans as exported or lost.
    fn settle(
        mut self,
        rt: &tokio::runtime::Runtime,
        otlp: &[&OtlpClient],
        shards: &[Shard],
        inner: &Inner,
        warned: &mut bool,
    ) {
        let sent = std::mem::take(&mut self.sent);
        let parts = self.parts(shards);
        for (i, sent) in sent {
            let r = match otlp.get(i) {
                Some(c) => rt.block_on(c.finish(sent, &parts)),
                None => continue,
            };
            account(inner, self.spans, r, warned);
        }
    }
}

/// Counts an export's spans as sent or lost; the first failure is a warning, later ones are
/// debug lines (an unreachable collector must not flood the log of a busy server).
fn account(inner: &Inner, n: usize, r: Result<(), tether_core::RemoteError>, warned: &mut bool) {
    match r {
        Ok(()) => {
            inner.exported.fetch_add(n as u64, Ordering::Relaxed);
        }
        Err(err) => {
            inner.failed.fetch_add(n as u64, Ordering::Relaxed);
            if !*warned {
                tracing::warn!(target: "tether::observe", "spans not exported: {err}");
                *warned = true;
            } else {
                tracing::debug!(target: "tether::observe", "spans not exported: {err}");
            }
        }
    }
}

fn console_line(s: &SpanRecord) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut line = format!(
        "span {} trace={} span={} parent={} kind={:?} duration_us={}",
        s.name(),
        hex(&s.trace_id),
        hex(&s.span_id),
        s.parent_span_id
            .map(|p| hex(&p))
            .unwrap_or_else(|| "-".into()),
        s.kind,
        s.end_unix_nanos.saturating_sub(s.start_unix_nanos) / 1000
    );
    for (k, v) in &s.attributes() {
        match v {
            AttrValue::Str(x) => line.push_str(&format!(" {k}={x:?}")),
            AttrValue::Int(i) => line.push_str(&format!(" {k}={i}")),
        }
    }
    if let Some(e) = &s.error {
        line.push_str(&format!(" error={e:?}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::OtlpTarget;
    use crate::span::SpanKind;
    use std::io::{BufRead, BufReader, Read, Write};
    use tether_remoting::observe::CallSite;

    /// An OTLP receiver that answers 200 to each request and then, if `close` is set, closes
    /// the connection without saying so (as a server ending an idle kept-alive connection
    /// does). Returns its port and the span bytes it received.
    fn receiver(close: bool) -> (u16, Arc<AtomicU64>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let got = Arc::new(AtomicU64::new(0));
        let g = got.clone();
        std::thread::spawn(move || {
            for s in l.incoming().take(64).flatten() {
                let mut w = s.try_clone().expect("clone");
                let mut r = BufReader::new(s);
                loop {
                    let mut len = 0usize;
                    let mut gzipped = false;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end().to_ascii_lowercase();
                        if l.is_empty() {
                            break;
                        }
                        if let Some(v) = l.strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        gzipped |= l == "content-encoding: gzip";
                    }
                    let mut body = vec![0u8; len];
                    if r.read_exact(&mut body).is_err() {
                        break;
                    }
                    if gzipped {
                        let mut plain = Vec::new();
                        flate2::read::GzDecoder::new(&body[..])
                            .read_to_end(&mut plain)
                            .expect("a gzipped body");
                        body = plain;
                    }
                    g.fetch_add(body.len() as u64, Ordering::Relaxed);
                    let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                    if close {
                        break;
                    }
                }
            }
        });
        (port, got)
    }

    fn span(i: u64) -> SpanRecord {
        SpanRecord {
            trace_id: [1; 16],
            span_id: (i + 1).to_be_bytes(),
            parent_span_id: None,
            trace_state: None,
            kind: SpanKind::Server,
            start_unix_nanos: i,
            end_unix_nanos: i + 1,
            site: Arc::new(CallSite::server(
                "pyro5",
                "svc",
                "127.0.0.1:9".parse().expect("addr"),
            )),
            system: "pyro5",
            method: "m".into(),
            peer: None,
            error_type: None,
            error: None,
        }
    }

    /// Spans in batches over several rounds all arrive and count as exported, whether the
    /// receiver keeps its connection or closes it after every reply (the pending reply is read
    /// later, and a request on a connection found closed goes again on a new one; gzipped in
    /// the second case, so the body that goes again is the gzipped one).
    #[test]
    fn every_batch_arrives_whether_the_connection_is_kept_or_not() {
        for close in [false, true] {
            let (port, got) = receiver(close);
            let client = OtlpClient::new(OtlpTarget {
                url: format!("http://127.0.0.1:{port}/v1/traces"),
                headers: Vec::new(),
                timeout: Duration::from_secs(5),
                tls: None,
                protocol: Default::default(),
                gzip: close,
            })
            .expect("client");
            let p = Pipeline::start(
                vec![Exporter::Otlp(Box::new(client))],
                Vec::new(),
                BatchSettings {
                    schedule_delay: Duration::from_millis(5),
                    max_queue: 4096,
                    max_batch: 7,
                },
            );
            let mut bytes = 0;
            for round in 0..5u64 {
                for i in 0..30 {
                    p.record(span(round * 100 + i));
                }
                let mut one = Vec::new();
                crate::otlp::encode_span(&mut one, &span(0).parts());
                bytes += 30 * one.len() as u64;
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(p.flush(Duration::from_secs(5)));
            assert_eq!(p.counts(), (150, 0, 0), "close: {close}");
            // Each request carries its spans and a few bytes around them.
            assert!(got.load(Ordering::Relaxed) > bytes, "close: {close}");
            assert!(p.shutdown(Duration::from_secs(5)));
        }
    }
}
