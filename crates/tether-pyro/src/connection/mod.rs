//! [`Connection`]: framing over a byte stream, after mini-redis's `Connection`. The reader is
//! generic over a wire's [`FrameFormat`] (Pyro5's today; Pyro4's and Pyro 3's headers plug in
//! the same way); reading whole Pyro5 messages and writing them is in the `Pyro5` impl block.
//!
//! Reads go through one growable buffer: a frame is parsed out of it once complete, and the
//! socket is read only when the buffer holds less than a frame. The header is validated as soon
//! as its bytes are in (tag and version after 6 bytes, magic and size limit after 40), and the
//! declared size is checked against the limit *before* the buffer grows for the body; the buffer
//! then grows in bounded steps, so a peer that declares a large body but never sends it holds
//! at most one step of memory.
//!
//! With [`Connection::set_detach_large_bytes`] on, a frame the format marks
//! ([`FrameFormat::find_detachable`]; for Pyro5 a large msgpack INVOKE or RESULT) is received
//! differently: once the start of its body is in, the large byte string's bytes are read from
//! the socket straight into their own `Vec`, which the decoder then turns into `Value::Bytes`
//! without a copy (the message carries it as [`Detached`]). That `Vec` grows in the same
//! bounded steps as the read buffer.
//!
//! Writes build the whole message (header, annotations, payload) in one reusable buffer and
//! hand it to the socket in one write, so a message is never split by Nagle or interleaved.
//! The spliced variants ([`Connection::encode_spliced`]) leave large byte strings where they
//! lie in the caller's value and write buffer and byte strings together with `writev`
//! ([`write_all_spliced`]), so a 1 MiB argument or result is never copied in user space on the
//! way out.

use crate::framing::{Detachable, FrameError, FrameFormat};
use crate::message::{
    check_splices, encode_into, encode_into_spliced, flatten, Annotation, EncodeError, Message,
};
use crate::pyro5::{Header, Pyro5};
use crate::serializer::{Detached, Splice};
use bytes::{Bytes, BytesMut};
use std::future::Future;
use std::io::IoSlice;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tether_core::RemoteError;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

mod budget;
mod pyro4;
mod pyro5;
mod write;

pub use budget::{BudgetHold, ByteBudget};

pub use write::write_all_spliced;

/// Initial capacity of the read and write buffers: a typical call or reply (a few hundred bytes)
/// fits, larger frames grow them to the size their header states. Kept small because every
/// idle connection holds both: 8 KiB each made an idle connection cost 22 KB of server memory,
/// 1 KiB makes it 8 KB, and no wire measured slower (A/B in one run: pinned sequential calls
/// +1%, 64 connections +1.6%, within the noise).
const INITIAL_BUFFER: usize = 1024;
/// Most the read buffer grows by in one step while waiting for a large body.
const MAX_GROW_STEP: usize = 1024 * 1024;
/// Most I/O vectors handed to one `writev` (well under Linux's IOV_MAX of 1024).
const MAX_IOVECS: usize = 64;

/// A framed connection over any async byte stream, for frames of format `F` (Pyro5 by
/// default).
#[derive(Debug)]
pub struct Connection<S, F = Pyro5> {
    stream: S,
    read_buf: BytesMut,
    write_buf: Vec<u8>,
    max_message_size: usize,
    compress: bool,
    /// How many times its size a compressed payload may inflate to.
    inflate_ratio: usize,
    /// Most time one message may take to write (a peer that stops reading is dropped).
    write_timeout: Option<Duration>,
    /// The shared budget large incoming frames are counted against (None: unbounded).
    budget: Option<Arc<ByteBudget>>,
    /// What the frame being received holds of the budget.
    hold: Option<BudgetHold>,
    /// Detach msgpack bins at least this long while receiving (None: off).
    detach_min: Option<usize>,
    /// The current frame was looked at for a bin to detach (whatever the outcome).
    scanned: bool,
    /// A bin being received into its own buffer.
    pending: Option<PendingBin>,
    format: PhantomData<F>,
}

/// One frame as received: its header, its body, and a byte string received apart from it
/// (cut out of `body` at `detached.at`, an offset in the body).
#[derive(Debug)]
pub struct Frame<H> {
    /// The validated header.
    pub header: H,
    /// The body the header declared, less the detached bytes.
    pub body: Bytes,
    /// A byte string received into its own buffer.
    pub detached: Option<Detached>,
}

/// A bin of the current frame received apart from the read buffer.
#[derive(Debug)]
struct PendingBin {
    /// Where its data belongs in the read buffer (which holds the frame from its header on).
    at: usize,
    /// Its declared length.
    len: usize,
    /// What has arrived.
    data: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S, Pyro5> {
    /// Wraps a stream for Pyro5 messages; `max_message_size` bounds annotations + payload both
    /// ways.
    pub fn new(stream: S, max_message_size: usize) -> Self {
        Self::with_format(stream, max_message_size)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin, F: FrameFormat> Connection<S, F> {
    /// Wraps a stream for frames of format `F`; `max_message_size` bounds the body.
    pub fn with_format(stream: S, max_message_size: usize) -> Self {
        Connection {
            stream,
            read_buf: BytesMut::with_capacity(INITIAL_BUFFER),
            write_buf: Vec::with_capacity(INITIAL_BUFFER),
            max_message_size,
            compress: false,
            inflate_ratio: crate::message::DEFAULT_INFLATE_RATIO,
            write_timeout: None,
            budget: None,
            hold: None,
            detach_min: None,
            scanned: false,
            pending: None,
            format: PhantomData,
        }
    }

    /// Receive msgpack byte strings of at least `min` bytes (None: off, the default) straight
    /// into their own buffers (see the module docs). Messages read then may carry a
    /// [`Detached`] part: decode them with the serializer's `*_detached` methods.
    pub fn set_detach_large_bytes(&mut self, min: Option<usize>) {
        self.detach_min = min;
    }

    /// Compress outgoing payloads over 100 bytes with zlib (Pyro's `COMPRESSION=True`).
    /// Off by default, as in Pyro; received compressed payloads are always inflated.
    pub fn set_compression(&mut self, on: bool) {
        self.compress = on;
    }

    /// How many times its compressed size a received payload may inflate to (default
    /// [`crate::message::DEFAULT_INFLATE_RATIO`]; at least 1 MiB is always allowed, and never
    /// more than the message size limit).
    pub fn set_max_inflate_ratio(&mut self, ratio: usize) {
        self.inflate_ratio = ratio.max(1);
    }

    /// Bounds the time one message may take to write (default `None`: no bound); a peer that
    /// stops reading then gets an error instead of pinning the message's buffer forever.
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    /// Counts every incoming frame larger than the initial buffer against `budget` while it
    /// arrives; a frame the budget cannot cover fails with [`FrameError::Overloaded`].
    pub fn set_budget(&mut self, budget: Option<Arc<ByteBudget>>) {
        self.budget = budget;
    }

    /// Puts bytes already read from the stream (a protocol sniff) in front of what comes next.
    pub fn preload(&mut self, bytes: &[u8]) {
        self.read_buf.extend_from_slice(bytes);
    }

    /// The size limit in force.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// Bytes currently reserved by the read buffer (a diagnostic: tests use it to show that a
    /// declared length is not allocated up front).
    pub fn read_capacity(&self) -> usize {
        self.read_buf.capacity() + self.pending.as_ref().map_or(0, |p| p.data.capacity())
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Reads one frame. `Ok(None)` means the peer closed cleanly between frames.
    ///
    /// `idle` bounds the wait for the first byte of a frame (None = wait forever, as Pyro
    /// does by default); `frame` bounds the time from the first byte to the last, so a peer
    /// that dribbles or stalls mid-frame is dropped.
    pub async fn read_frame(
        &mut self,
        idle: Option<Duration>,
        frame: Option<Duration>,
    ) -> Result<Option<Frame<F::Header>>, FrameError<F::Header>> {
        let mut frame_deadline: Option<Instant> = None;
        loop {
            if let Some(msg) = self.parse_frame()? {
                return Ok(Some(msg));
            }
            if !self.read_buf.is_empty() && frame_deadline.is_none() {
                frame_deadline = frame.map(|d| Instant::now() + d);
            }
            let deadline = if self.read_buf.is_empty() {
                idle.map(|d| Instant::now() + d)
            } else {
                frame_deadline
            };
            self.hold_budget()?;
            if self.detach_min.is_some() && !self.scanned {
                self.try_detach();
            }
            if let Some(p) = self.pending.as_mut().filter(|p| p.data.len() < p.len) {
                let remaining = p.len - p.data.len();
                if p.data.capacity() == p.data.len() {
                    // Geometric, but never more than has arrived plus one step.
                    p.data
                        .reserve_exact(remaining.min(p.data.len().max(MAX_GROW_STEP)));
                }
                let room = (p.data.capacity() - p.data.len()).min(remaining);
                let mut limited = AsyncReadExt::take(&mut self.stream, room as u64);
                if timed(deadline, limited.read_buf(&mut p.data)).await? == 0 {
                    return Err(FrameError::Truncated);
                }
                continue;
            }
            let want = self.bytes_wanted();
            self.read_buf
                .reserve(want.clamp(INITIAL_BUFFER, MAX_GROW_STEP));
            // Small reads until the payload's start has been looked at, so that a large bin's
            // bytes land in their own buffer rather than here. (The buffer is limited, not the
            // stream: one read path either way, and no reader wrapped around the socket.)
            let room = if self.detach_min.is_some() && !self.scanned {
                INITIAL_BUFFER
            } else {
                usize::MAX
            };
            let mut limited = bytes::BufMut::limit(&mut self.read_buf, room);
            let n = timed(deadline, self.stream.read_buf(&mut limited)).await?;
            if n == 0 {
                return if self.read_buf.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::Truncated)
                };
            }
        }
    }

    /// Asks the format whether the current frame has a byte string to receive apart (see
    /// [`Connection::set_detach_large_bytes`]); sets `scanned` once decided.
    fn try_detach(&mut self) {
        let Some(min) = self.detach_min else {
            self.scanned = true;
            return;
        };
        let hs = F::HEADER_SIZE;
        if self.read_buf.len() < hs {
            return;
        }
        let Ok(h) = F::parse_header(&self.read_buf[..hs], self.max_message_size) else {
            // parse_frame reports it
            self.scanned = true;
            return;
        };
        let frame_end = hs + F::body_len(&h) as usize;
        if self.read_buf.len() >= frame_end {
            self.scanned = true;
            return;
        }
        match F::find_detachable(&h, &self.read_buf[hs..], min) {
            Detachable::At { at, len } => {
                self.scanned = true;
                let at = hs + at;
                // Only worth it while most of the bin is still to come; a bin reaching past
                // the frame is left to the decoder to refuse.
                if at <= self.read_buf.len()
                    && at + len <= frame_end
                    && self.read_buf.len() - at < len
                {
                    let have = self.read_buf.len() - at;
                    let mut data = Vec::with_capacity(len.min(MAX_GROW_STEP).max(have));
                    data.extend_from_slice(&self.read_buf[at..]);
                    self.read_buf.truncate(at);
                    self.pending = Some(PendingBin { at, len, data });
                }
            }
            Detachable::NeedMore => {}
            Detachable::No => self.scanned = true,
        }
    }

    /// Once a partial frame's header is in, counts the whole frame against the budget if it is
    /// larger than the initial buffer (small frames never wait on others' big ones).
    fn hold_budget(&mut self) -> Result<(), FrameError<F::Header>> {
        let (Some(budget), None) = (&self.budget, &self.hold) else {
            return Ok(());
        };
        let hs = F::HEADER_SIZE;
        if self.read_buf.len() < hs {
            return Ok(());
        }
        let h = F::parse_header(&self.read_buf[..hs], self.max_message_size)?;
        let total = hs + F::body_len(&h) as usize;
        if total > INITIAL_BUFFER {
            self.hold = Some(budget.try_take(total).ok_or(FrameError::Overloaded)?);
        }
        Ok(())
    }

    /// How many more bytes the current partial frame needs (at least one).
    fn bytes_wanted(&self) -> usize {
        let hs = F::HEADER_SIZE;
        if self.read_buf.len() < hs {
            return hs - self.read_buf.len();
        }
        let detached = self.pending.as_ref().map_or(0, |p| p.len);
        match F::parse_header(&self.read_buf[..hs], self.max_message_size) {
            Ok(h) => (hs + F::body_len(&h) as usize)
                .saturating_sub(detached)
                .saturating_sub(self.read_buf.len())
                .max(1),
            Err(_) => 1,
        }
    }

    /// Takes the first `end` bytes out of the buffer, a frame whose header is `hs` bytes, and
    /// returns its body: the header is skipped (a move of the buffer's start) and the body split
    /// off, one handle to the buffer's memory made instead of two.
    #[inline]
    fn take_body(&mut self, hs: usize, end: usize) -> Bytes {
        bytes::Buf::advance(&mut self.read_buf, hs);
        self.read_buf.split_to(end - hs).freeze()
    }

    /// Parses one frame out of the buffer if it is complete; validates as early as possible.
    fn parse_frame(&mut self) -> Result<Option<Frame<F::Header>>, FrameError<F::Header>> {
        if self.read_buf.is_empty() {
            return Ok(None);
        }
        let hs = F::HEADER_SIZE;
        F::check_prefix(&self.read_buf[..self.read_buf.len().min(hs)])?;
        if self.read_buf.len() < hs {
            return Ok(None);
        }
        let header = F::parse_header(&self.read_buf[..hs], self.max_message_size)?;
        let total = hs + F::body_len(&header) as usize;
        let Some(pending) = self.pending.take() else {
            if self.read_buf.len() < total {
                return Ok(None);
            }
            self.scanned = false;
            self.hold = None;
            let body = self.take_body(hs, total);
            return Ok(Some(Frame {
                header,
                body,
                detached: None,
            }));
        };
        // A frame with a bin received apart: complete when the bin and the rest are in.
        if pending.data.len() < pending.len || self.read_buf.len() < total - pending.len {
            self.pending = Some(pending);
            return Ok(None);
        }
        self.scanned = false;
        self.hold = None;
        let body = self.take_body(hs, total - pending.len);
        Ok(Some(Frame {
            header,
            body,
            detached: Some(Detached {
                at: pending.at - hs,
                data: pending.data,
            }),
        }))
    }

    /// The write buffer, for a wire that encodes its own frames (then [`Self::flush_encoded`]).
    pub fn write_buffer(&mut self) -> &mut Vec<u8> {
        &mut self.write_buf
    }

    /// Writes the buffer filled by an encode call in one write.
    pub async fn flush_encoded(&mut self) -> Result<(), RemoteError> {
        self.flush_spliced(&[]).await
    }

    /// Writes the buffer filled by an encode call with the splices it returned, as one
    /// message (vectored writes, no copy of the spliced bytes).
    pub async fn flush_spliced(&mut self, splices: &[Splice<'_>]) -> Result<(), RemoteError> {
        let write = async {
            if splices.is_empty() {
                self.stream.write_all(&self.write_buf).await?;
            } else {
                write_all_spliced(&mut self.stream, &self.write_buf, splices).await?;
            }
            // A TLS stream may take the message into its session while the socket is full
            // and hand it to the socket only when flushed: without this, a message written
            // at such a moment would wait for the next one, and a peer waiting for it would
            // wait for ever. (Nothing to do on TCP.)
            self.stream.flush().await
        };
        let res = match self.write_timeout {
            None => write.await,
            Some(t) => bounded_write(t, write).await,
        };
        // Don't keep a huge buffer around after one large message.
        if self.write_buf.capacity() > 4 * MAX_GROW_STEP {
            self.write_buf = Vec::with_capacity(INITIAL_BUFFER);
        } else {
            self.write_buf.clear();
        }
        res.map_err(RemoteError::from)
    }

    /// Shuts the write side down (best effort), so the peer sees a clean close.
    pub async fn shutdown(&mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// Sends raw bytes (tests and error paths that must send something a codec would refuse).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }
}

/// Awaits a read, within the deadline if there is one.
fn bounded_write<F: Future<Output = std::io::Result<()>>>(
    limit: Duration,
    write: F,
) -> WriteWithin<F> {
    WriteWithin {
        write,
        limit,
        timer: None,
    }
}

pin_project_lite::pin_project! {
    /// `write` within `limit`, the clock started only when the write does not complete at
    /// once: a message that fits the socket's buffer (nearly all of them) then costs no clock
    /// reading and no timer. The limit is for a peer that stops reading, and such a write is
    /// never done at once. (Hand-written so the write's future stays where it is: an `async`
    /// block that pins it moves it once and holds room for it twice.)
    struct WriteWithin<F> {
        #[pin]
        write: F,
        limit: Duration,
        // Boxed: made only for a write that waits.
        timer: Option<Pin<Box<tokio::time::Sleep>>>,
    }
}

impl<F: Future<Output = std::io::Result<()>>> Future for WriteWithin<F> {
    type Output = std::io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(r) = this.write.poll(cx) {
            return Poll::Ready(r);
        }
        let limit = *this.limit;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the peer did not read the message in time",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

async fn timed<H>(
    deadline: Option<Instant>,
    read: impl std::future::Future<Output = std::io::Result<usize>>,
) -> Result<usize, FrameError<H>> {
    match deadline {
        Some(d) => Ok(tokio::time::timeout_at(d, read)
            .await
            .map_err(|_| FrameError::Timeout)??),
        None => Ok(read.await?),
    }
}

impl<F: FrameFormat> Connection<crate::socket::Socket, F> {
    /// Whether an idle connection is unusable: the peer closed it, reset it, or sent bytes
    /// nobody asked for. Checked by the proxy before reusing a connection, because then
    /// nothing has been sent yet and reconnecting is safe; one non-blocking read.
    pub fn is_stale(&self) -> bool {
        if !self.read_buf.is_empty() || self.pending.is_some() {
            return true;
        }
        let mut probe = [0u8; 1];
        !matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyro5::HEADER_SIZE;
    use crate::pyro5::{msg_type, Header};
    use tokio::io::AsyncWriteExt;

    fn header(data_len: u32) -> [u8; HEADER_SIZE] {
        let mut h = Header::new(msg_type::INVOKE, 1, 0, 1);
        h.data_len = data_len;
        let mut b = [0u8; HEADER_SIZE];
        h.encode(&mut b);
        b
    }

    #[tokio::test]
    async fn declared_lengths_are_not_allocated_up_front() {
        // 4 GiB declared: refused from the header, nothing reserved for the body
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut conn = Connection::new(server, 64 << 20);
        client.write_all(&header(u32::MAX)).await.unwrap();
        let r = conn.read_message(None, None).await;
        assert!(matches!(r, Err(FrameError::TooLarge { .. })), "{r:?}");
        assert!(conn.read_capacity() <= INITIAL_BUFFER * 2);

        // 60 MiB declared (under the limit) but never sent: at most one growth step is held
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut conn = Connection::new(server, 64 << 20);
        client.write_all(&header(60 << 20)).await.unwrap();
        client.write_all(&[b'x'; 100]).await.unwrap();
        let r = conn
            .read_message(None, Some(std::time::Duration::from_millis(50)))
            .await;
        assert!(matches!(r, Err(FrameError::Timeout)), "{r:?}");
        assert!(
            conn.read_capacity() <= MAX_GROW_STEP + INITIAL_BUFFER,
            "{}",
            conn.read_capacity()
        );
    }

    #[tokio::test]
    async fn frames_split_across_reads_and_pipelined_frames_parse() {
        let (mut client, server) = tokio::io::duplex(7);
        let mut conn = Connection::new(server, 1 << 20);
        let mut bytes = Vec::new();
        for seq in 1..=3u16 {
            let mut h = Header::new(msg_type::INVOKE, 1, 0, seq);
            h.data_len = 5;
            let mut b = [0u8; HEADER_SIZE];
            h.encode(&mut b);
            bytes.extend_from_slice(&b);
            bytes.extend_from_slice(b"hello");
        }
        let writer = tokio::spawn(async move {
            client.write_all(&bytes).await.unwrap();
            client
        });
        for seq in 1..=3u16 {
            let m = conn.read_message(None, None).await.unwrap().unwrap();
            assert_eq!((m.header.seq, &m.payload[..]), (seq, &b"hello"[..]));
        }
        drop(writer.await.unwrap());
        assert!(conn.read_message(None, None).await.unwrap().is_none());
    }

    /// A writer that takes at most `step` bytes per call (and only from the first slice when
    /// `vectored` is false), recording everything it accepted.
    struct Dribble {
        got: Vec<u8>,
        step: usize,
        vectored: bool,
        calls: usize,
    }

    impl tokio::io::AsyncWrite for Dribble {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let n = buf.len().min(self.step);
            self.got.extend_from_slice(&buf[..n]);
            self.calls += 1;
            std::task::Poll::Ready(Ok(n))
        }

        fn poll_write_vectored(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let mut left = self.step;
            let mut n = 0;
            for b in bufs {
                let k = b.len().min(left);
                self.got.extend_from_slice(&b[..k]);
                left -= k;
                n += k;
                if left == 0 || !self.vectored {
                    break;
                }
            }
            self.calls += 1;
            std::task::Poll::Ready(Ok(n))
        }

        fn is_write_vectored(&self) -> bool {
            self.vectored
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn spliced_writes_survive_partial_writes() {
        let buf: Vec<u8> = (0..100u8).collect();
        let a = vec![0xaa; 37];
        let b = vec![0xbb; 5];
        let splices = [
            Splice { at: 0, data: &a },
            Splice { at: 10, data: &b },
            Splice { at: 10, data: &a },
            Splice { at: 100, data: &b },
        ];
        let mut want = a.clone();
        want.extend_from_slice(&buf[..10]);
        want.extend_from_slice(&b);
        want.extend_from_slice(&a);
        want.extend_from_slice(&buf[10..]);
        want.extend_from_slice(&b);
        for step in [1, 2, 3, 7, 36, 37, 38, 1000] {
            for vectored in [true, false] {
                let mut w = Dribble {
                    got: Vec::new(),
                    step,
                    vectored,
                    calls: 0,
                };
                write_all_spliced(&mut w, &buf, &splices).await.unwrap();
                assert_eq!(w.got, want, "step {step} vectored {vectored}");
                assert!(w.calls <= want.len());
            }
        }
        // offsets out of order or beyond the buffer are refused before anything is written
        let mut w = Dribble {
            got: Vec::new(),
            step: 8,
            vectored: true,
            calls: 0,
        };
        let bad = [Splice { at: 50, data: &a }, Splice { at: 10, data: &b }];
        assert!(write_all_spliced(&mut w, &buf, &bad).await.is_err());
        let beyond = [Splice { at: 101, data: &a }];
        assert!(write_all_spliced(&mut w, &buf, &beyond).await.is_err());
        assert!(w.got.is_empty());
    }

    #[tokio::test]
    async fn spliced_messages_read_back_as_plain_ones() {
        use crate::serializer::Serializer;
        let big = tether_core::Value::Bytes((0..300_000u32).map(|i| i as u8).collect());
        let value = tether_core::Value::Tuple(vec![big.clone(), tether_core::Value::Int(1)]);
        for compress in [false, true] {
            let (client, server) = tokio::io::duplex(4096);
            let mut tx = Connection::new(client, 1 << 20);
            tx.set_compression(compress);
            let mut rx = Connection::new(server, 1 << 20);
            let reader = tokio::spawn(async move {
                let m = rx.read_message(None, None).await.unwrap().unwrap();
                (m, rx)
            });
            let h = Header::new(msg_type::RESULT, 4, 0, 9);
            let splices = tx
                .encode_spliced(h, &[], |b, sp| {
                    Serializer::Msgpack.encode_spliced(&value, b, sp)
                })
                .unwrap();
            assert_eq!(splices.is_empty(), compress);
            tx.flush_spliced(&splices).await.unwrap();
            let (m, _rx) = reader.await.unwrap();
            assert_eq!(m.header.seq, 9);
            let got = Serializer::Msgpack
                .decode(&m.payload, &crate::serializer::Limits::default())
                .unwrap();
            assert_eq!(
                got,
                tether_core::Value::List(vec![big.clone(), tether_core::Value::Int(1)])
            );
        }
        // the size limit counts the spliced bytes
        let (client, _server) = tokio::io::duplex(64);
        let mut tx = Connection::new(client, 100_000);
        let r = tx.encode_spliced(Header::new(msg_type::RESULT, 4, 0, 1), &[], |b, sp| {
            Serializer::Msgpack.encode_spliced(&big, b, sp)
        });
        assert_eq!(
            r.err().map(|e| e.kind()),
            Some(tether_core::ErrorKind::MessageTooLarge)
        );
    }

    /// A msgpack RESULT frame for `value` (with an annotation, to shift the payload).
    fn msgpack_frame(value: &tether_core::Value) -> Vec<u8> {
        let ann = [Annotation {
            id: *b"XTRA",
            data: bytes::Bytes::from_static(b"abc"),
        }];
        let mut out = Vec::new();
        crate::message::encode_into(
            &mut out,
            Header::new(msg_type::RESULT, 4, 0, 5),
            &ann,
            usize::MAX,
            |b| crate::serializer::msgpack::encode(value, b),
        )
        .unwrap();
        out
    }

    #[tokio::test]
    async fn large_bins_are_received_apart_and_decode_the_same() {
        use crate::serializer::{Limits, Serializer};
        use tether_core::Value;
        let big = Value::Bytes((0..300_000u32).map(|i| (i % 253) as u8).collect());
        let values = [
            big.clone(),
            Value::List(vec![
                Value::str("x"),
                big.clone(),
                Value::Int(7),
                big.clone(),
            ]),
            Value::Bytes(vec![3; 100]),
        ];
        for (chunk, v) in [1usize, 7, 4096, 1 << 20]
            .iter()
            .flat_map(|c| values.iter().map(move |v| (*c, v)))
        {
            let (mut client, server) = tokio::io::duplex(chunk.max(64));
            let mut conn = Connection::new(server, 1 << 20);
            conn.set_detach_large_bytes(Some(1000));
            let mut bytes = msgpack_frame(v);
            bytes.extend(msgpack_frame(&Value::Int(1))); // a pipelined small frame after it
            let writer = tokio::spawn(async move {
                for piece in bytes.chunks(chunk) {
                    client.write_all(piece).await.unwrap();
                }
                client
            });
            let mut m = conn.read_message(None, None).await.unwrap().unwrap();
            assert_eq!(m.annotation(b"XTRA").map(|b| &b[..]), Some(&b"abc"[..]));
            if chunk < 4096 && matches!(v, Value::List(_)) || chunk == 1 {
                assert_eq!(m.has_detached(), v != &values[2], "chunk {chunk}");
            }
            let d = m.take_detached();
            let got = Serializer::Msgpack
                .decode_detached(&m.payload, d, &Limits::default())
                .unwrap();
            assert_eq!(&got, v, "chunk {chunk}");
            let m2 = conn.read_message(None, None).await.unwrap().unwrap();
            assert!(!m2.has_detached());
            assert_eq!(m2.payload[..], [1]);
            drop(writer.await.unwrap());
            assert!(conn.read_message(None, None).await.unwrap().is_none());
        }
    }

    #[tokio::test]
    async fn a_declared_huge_bin_is_not_allocated_up_front_and_truncation_is_an_error() {
        use tether_core::Value;
        // 60 MiB bin declared, a little sent, then a stall: at most one step is held
        let mut frame = msgpack_frame(&Value::Bytes(vec![9; 60 << 20]));
        frame.truncate(HEADER_SIZE + 11 + 5 + 100);
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut conn = Connection::new(server, 64 << 20);
        conn.set_detach_large_bytes(Some(1000));
        client.write_all(&frame).await.unwrap();
        let r = conn
            .read_message(None, Some(std::time::Duration::from_millis(50)))
            .await;
        assert!(matches!(r, Err(FrameError::Timeout)), "{r:?}");
        assert!(
            conn.read_capacity() <= 2 * MAX_GROW_STEP + INITIAL_BUFFER,
            "{}",
            conn.read_capacity()
        );
        // the peer goes away in the middle of the bin
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut conn = Connection::new(server, 64 << 20);
        conn.set_detach_large_bytes(Some(1000));
        client.write_all(&frame).await.unwrap();
        drop(client);
        let r = conn.read_message(None, None).await;
        assert!(matches!(r, Err(FrameError::Truncated)), "{r:?}");
    }
}
