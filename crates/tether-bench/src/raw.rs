//! The baseline: raw TCP ping-pong with a 4-byte length prefix, no serialization at all.
//!
//! Two flavours, because "raw TCP" in Rust means either: blocking std sockets with a thread per
//! connection (fewest instructions per round trip) and tokio (what an async RPC stack sits on).
//! The orchestrator uses the faster of the two as the baseline of each row. A third, tokio over
//! TLS (rustls, through tether's TLS layer), is the floor of the TLS rows: what the same echo
//! costs once every message is sealed and opened, with no protocol on top.
//! Both set `TCP_NODELAY`, write each message with one `write` (header and body in one buffer for
//! small messages) and read through a buffer, as the design asks of every tether socket.

use crate::drive::{AsyncClient, BoxErr, SyncClient};
use crate::workload::{MAX_FRAME, RAW_SMALL_SIZE};
use std::io::{BufRead, BufReader, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Messages up to this size are copied behind their header so they go out in one write.
const COALESCE: usize = 64 * 1024;

fn frame_len(hdr: [u8; 4]) -> Result<usize, BoxErr> {
    let n = u32::from_be_bytes(hdr) as usize;
    if n > MAX_FRAME {
        return Err(format!("frame of {n} bytes exceeds the {MAX_FRAME}-byte limit").into());
    }
    Ok(n)
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

// ---- blocking std sockets ---------------------------------------------------------------------

fn write_msg_std(w: &mut TcpStream, body: &[u8]) -> std::io::Result<()> {
    if body.len() <= COALESCE {
        return w.write_all(&frame(body));
    }
    // Large bodies: header and body in one vectored write (no copy, no lone 4-byte segment).
    let hdr = (body.len() as u32).to_be_bytes();
    let mut bufs = [IoSlice::new(&hdr), IoSlice::new(body)];
    let mut slices = &mut bufs[..];
    while !slices.is_empty() {
        let n = w.write_vectored(slices)?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut slices, n);
    }
    Ok(())
}

fn read_msg_std(r: &mut BufReader<TcpStream>, buf: &mut Vec<u8>) -> Result<(), BoxErr> {
    let mut hdr = [0u8; 4];
    r.read_exact(&mut hdr)?;
    let n = frame_len(hdr)?;
    buf.resize(n, 0);
    if n <= COALESCE {
        r.read_exact(buf)?;
        return Ok(());
    }
    // Large bodies: take what the buffer already holds, then wait for the rest in one
    // recv(MSG_WAITALL), one wake-up instead of one per arriving chunk (Python's Pyro5 reads
    // the same way, and without it Python beat this "baseline" on the 1 MiB row).
    let have = r.buffer().len().min(n);
    buf[..have].copy_from_slice(&r.buffer()[..have]);
    r.consume(have);
    recv_all(r.get_ref(), &mut buf[have..])?;
    Ok(())
}

/// Fills `buf` from `sock` with recv(MSG_WAITALL), retrying on EINTR and short reads.
fn recv_all(sock: &TcpStream, mut buf: &mut [u8]) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    while !buf.is_empty() {
        // SAFETY: buf is a valid, writable slice of buf.len() bytes for the whole call.
        let n = unsafe {
            libc::recv(
                sock.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_WAITALL,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n as usize..];
    }
    Ok(())
}

/// Serves raw echo on `listener` with one thread per connection; never returns.
pub fn serve_std(listener: TcpListener) -> Result<(), BoxErr> {
    for conn in listener.incoming() {
        let conn = conn?;
        std::thread::spawn(move || {
            let _ = serve_conn_std(conn);
        });
    }
    Ok(())
}

fn serve_conn_std(conn: TcpStream) -> Result<(), BoxErr> {
    conn.set_nodelay(true)?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::with_capacity(COALESCE, conn);
    let mut buf = Vec::new();
    loop {
        read_msg_std(&mut r, &mut buf)?;
        write_msg_std(&mut w, &buf)?;
    }
}

/// A blocking raw client connection.
pub struct StdClient {
    w: TcpStream,
    r: BufReader<TcpStream>,
    small: Vec<u8>,
    buf: Vec<u8>,
}

impl StdClient {
    /// Connects to `addr`.
    pub fn connect(addr: &str) -> Result<StdClient, BoxErr> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        Ok(StdClient {
            w: s.try_clone()?,
            r: BufReader::with_capacity(COALESCE, s),
            small: vec![b'x'; RAW_SMALL_SIZE],
            buf: Vec::new(),
        })
    }
}

impl SyncClient for StdClient {
    fn small(&mut self) -> Result<(), BoxErr> {
        write_msg_std(&mut self.w, &self.small)?;
        read_msg_std(&mut self.r, &mut self.buf)?;
        if self.buf != self.small {
            return Err("raw echo returned different bytes".into());
        }
        Ok(())
    }

    fn big(&mut self, payload: Vec<u8>) -> Result<Vec<u8>, BoxErr> {
        write_msg_std(&mut self.w, &payload)?;
        let mut out = Vec::new();
        read_msg_std(&mut self.r, &mut out)?;
        Ok(out)
    }
}

// ---- tokio ------------------------------------------------------------------------------------

async fn write_msg_tokio<W: AsyncWriteExt + Unpin>(w: &mut W, body: &[u8]) -> std::io::Result<()> {
    if body.len() <= COALESCE {
        return w.write_all(&frame(body)).await;
    }
    // Large bodies: header and body in one vectored write (no copy, no lone 4-byte segment).
    let hdr = (body.len() as u32).to_be_bytes();
    let mut bufs = [IoSlice::new(&hdr), IoSlice::new(body)];
    let mut slices = &mut bufs[..];
    while !slices.is_empty() {
        let n = w.write_vectored(slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut slices, n);
    }
    Ok(())
}

async fn read_msg_tokio<R: AsyncReadExt + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> Result<(), BoxErr> {
    let mut hdr = [0u8; 4];
    r.read_exact(&mut hdr).await?;
    let n = frame_len(hdr)?;
    buf.resize(n, 0);
    r.read_exact(buf).await?;
    Ok(())
}

/// Serves raw echo on `listener` with one tokio task per connection; never returns.
pub async fn serve_tokio(listener: tokio::net::TcpListener) -> Result<(), BoxErr> {
    serve_tokio_with(listener, |_| {}).await
}

/// [`serve_tokio`] with `each` run on every message's body before it is echoed (the
/// footprint rows' extra work; a no-op closure compiles to the plain echo).
pub async fn serve_tokio_with<H>(listener: tokio::net::TcpListener, each: H) -> Result<(), BoxErr>
where
    H: Fn(&[u8]) + Copy + Send + 'static,
{
    loop {
        let (conn, _) = listener.accept().await?;
        tokio::spawn(async move {
            if conn.set_nodelay(true).is_ok() {
                let (r, w) = conn.into_split();
                let _ = echo(r, w, each).await;
            }
        });
    }
}

/// Serves raw echo over TLS on `listener`, one tokio task per connection; never returns.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: tether_tls::ServerTls,
) -> Result<(), BoxErr> {
    let tls = std::sync::Arc::new(tls);
    loop {
        let (conn, peer) = listener.accept().await?;
        let tls = tls.clone();
        tokio::spawn(async move {
            let _ = conn.set_nodelay(true);
            if let Ok(accepted) = tls.accept(conn, Some(peer)).await {
                let (r, w) = tokio::io::split(accepted.stream);
                let _ = echo(r, w, |_| {}).await;
            }
        });
    }
}

/// Answers every message read from `r` with the same message on `w` (after `each` has seen
/// it), until either fails.
async fn echo<R, W>(r: R, mut w: W, each: impl Fn(&[u8])) -> Result<(), BoxErr>
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let mut r = tokio::io::BufReader::with_capacity(COALESCE, r);
    let mut buf = Vec::new();
    loop {
        read_msg_tokio(&mut r, &mut buf).await?;
        each(&buf);
        write_msg_tokio(&mut w, &buf).await?;
        // Pushes TLS records out; a no-op on a plain socket.
        w.flush().await?;
    }
}

/// A tokio raw client connection over `R` and `W` (a TCP socket's halves, or a TLS stream's).
pub struct RawClient<R, W> {
    r: tokio::io::BufReader<R>,
    w: W,
    small: Vec<u8>,
    buf: Vec<u8>,
}

/// A tokio raw client connection over TCP.
pub type TokioClient = RawClient<tokio::net::tcp::OwnedReadHalf, tokio::net::tcp::OwnedWriteHalf>;

type TlsStream = tether_tls::ClientStream<tokio::net::TcpStream>;

/// A tokio raw client connection over TLS.
pub type TlsClient = RawClient<tokio::io::ReadHalf<TlsStream>, tokio::io::WriteHalf<TlsStream>>;

impl<R: tokio::io::AsyncRead, W> RawClient<R, W> {
    fn new(r: R, w: W) -> Self {
        RawClient {
            r: tokio::io::BufReader::with_capacity(COALESCE, r),
            w,
            small: vec![b'x'; RAW_SMALL_SIZE],
            buf: Vec::new(),
        }
    }
}

impl TokioClient {
    /// Connects to `addr`.
    pub async fn connect(addr: String) -> Result<TokioClient, BoxErr> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        Ok(RawClient::new(r, w))
    }
}

impl TlsClient {
    /// Connects to `addr` and runs the handshake (the server's name checked: `localhost`).
    pub async fn connect(addr: String, tls: tether_tls::ClientTls) -> Result<TlsClient, BoxErr> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let s = tls
            .connect("localhost", s, std::time::Duration::from_secs(10))
            .await?;
        let (r, w) = tokio::io::split(s);
        Ok(RawClient::new(r, w))
    }
}

impl<R, W> AsyncClient for RawClient<R, W>
where
    R: AsyncReadExt + Unpin + Send + 'static,
    W: AsyncWriteExt + Unpin + Send + 'static,
{
    async fn small(&mut self) -> Result<(), BoxErr> {
        write_msg_tokio(&mut self.w, &self.small).await?;
        self.w.flush().await?;
        read_msg_tokio(&mut self.r, &mut self.buf).await?;
        if self.buf != self.small {
            return Err("raw echo returned different bytes".into());
        }
        Ok(())
    }

    async fn big(&mut self, payload: Vec<u8>) -> Result<Vec<u8>, BoxErr> {
        write_msg_tokio(&mut self.w, &payload).await?;
        self.w.flush().await?;
        let mut out = Vec::new();
        read_msg_tokio(&mut self.r, &mut out).await?;
        Ok(out)
    }
}
