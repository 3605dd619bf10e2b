//! [`Pipeline`]: where finished spans go. A bounded queue, one worker thread that sends them
//! in batches every schedule delay (or when a batch is full, or when asked to flush), and the
//! exporters it sends to (OTLP, the console, memory).
//!
//! The worker is a plain thread with its own small runtime, so spans are exported whatever
//! runtime the program has (or none), and [`Pipeline::shutdown`] can flush them at exit from
//! synchronous code.

use crate::otlp::{encode_request, OtlpClient};
use crate::span::{AttrValue, SpanParts, SpanRecord};
use crate::stripe::{self, Padded, STRIPES};
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
}

impl Shard {
    fn len(&self) -> usize {
        self.records.len() + self.ends.len()
    }
}

struct Inner {
    /// Finished spans, one shard per [stripe](crate::stripe): the workers of a busy server
    /// each queue into their own, so no lock or counter is passed between them per call.
    shards: [Padded<Mutex<Shard>>; STRIPES],
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
            shards: Default::default(),
            encode_early: !exporters.is_empty()
                && exporters.iter().all(|e| matches!(e, Exporter::Otlp(_))),
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
            let mut shard = inner.shards[stripe::mine()]
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
        // after that would pay it for nothing). Under the worker's lock, so the wake-up
        // cannot fall between its check and its wait.
        if n == inner.settings.max_batch {
            let _q = inner.queue.lock().unwrap_or_else(|p| p.into_inner());
            inner.batch_ready.store(true, Ordering::Relaxed);
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
    // Emptied shards come back here, so the stripes keep their capacity instead of growing
    // from nothing after every export.
    let mut spares: Vec<Shard> = Vec::new();
    let mut batch = Shard::default();
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
        for shard in &inner.shards {
            let spare = spares.pop().unwrap_or_default();
            let mut taken = std::mem::replace(
                &mut *shard.0.lock().unwrap_or_else(|p| p.into_inner()),
                spare,
            );
            if batch.len() == 0 {
                std::mem::swap(&mut batch, &mut taken);
            } else {
                batch.records.append(&mut taken.records);
                let base = batch.encoded.len();
                batch.encoded.extend_from_slice(&taken.encoded);
                batch.ends.extend(taken.ends.iter().map(|e| e + base));
            }
            taken.encoded.clear();
            taken.ends.clear();
            spares.push(taken);
        }
        let max = inner.settings.max_batch.max(1);
        // Encoded spans, `max` at a time.
        let mut from = 0;
        for ends in batch.ends.chunks(max) {
            let to = ends.last().copied().unwrap_or(from);
            let body = crate::otlp::request_of_encoded(&resource, &batch.encoded[from..to]);
            from = to;
            let otlp: Vec<&OtlpClient> = exporters
                .iter()
                .filter_map(|e| match e {
                    Exporter::Otlp(c) => Some(&**c),
                    _ => None,
                })
                .collect();
            let mut body = Some(body);
            for (i, c) in otlp.iter().enumerate() {
                // The last exporter takes the body itself; others get a copy.
                let b = if i + 1 == otlp.len() {
                    body.take().unwrap_or_default()
                } else {
                    body.clone().unwrap_or_default()
                };
                let r = rt.block_on(c.export(b));
                account(&inner, ends.len(), r, &mut warned);
            }
        }
        for chunk in batch.records.chunks(max) {
            for e in &exporters {
                let r = match e {
                    Exporter::Otlp(c) => rt.block_on(c.export(encode_request(&resource, chunk))),
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
        batch.records.clear();
        batch.encoded.clear();
        batch.ends.clear();
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
