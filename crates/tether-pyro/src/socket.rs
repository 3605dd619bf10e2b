//! The sockets Pyro runs over: TCP (with `TCP_NODELAY`, since every message is one write
//! and Nagle would only add latency to request/reply) and Unix domain sockets.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

/// A connected TCP or Unix socket, or TCP under TLS. (Named so that "stream" means one thing in tether: a
/// remote iterator of results.)
#[derive(Debug)]
pub enum Socket {
    /// TCP (nodelay set by the constructors in this crate).
    Tcp(TcpStream),
    /// A Unix domain socket.
    Unix(UnixStream),
    /// The server side of TLS over TCP (boxed: the TLS state is large).
    TlsServer(Box<tether_tls::ServerStream<TcpStream>>),
    /// The client side of TLS over TCP.
    TlsClient(Box<tether_tls::ClientStream<TcpStream>>),
}

impl Socket {
    /// Wraps a TCP stream, turning on `TCP_NODELAY`.
    pub fn tcp(s: TcpStream) -> io::Result<Socket> {
        s.set_nodelay(true)?;
        Ok(Socket::Tcp(s))
    }
}

impl Socket {
    /// Non-blocking read (`WouldBlock` when nothing is there); lets a client notice that an
    /// idle connection was closed by the server before it sends anything on it.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.try_read(buf),
            Socket::Unix(s) => s.try_read(buf),
            // A raw peek would eat TLS records (session tickets arrive after the handshake),
            // so a TLS connection is never reported stale; a call on a connection the server
            // closed fails and the next one reconnects.
            Socket::TlsServer(_) | Socket::TlsClient(_) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Socket {
    /// Waits until a TCP socket has something to read (or was closed); a TLS socket is
    /// reported readable at once (its first bytes are the handshake, already done), a Unix
    /// socket when tokio thinks it may be.
    pub async fn readable(&self) -> io::Result<()> {
        match self {
            // A peek waits for a byte (or the close) and leaves it to be read.
            Socket::Tcp(s) => s.peek(&mut [0u8; 1]).await.map(drop),
            // (may wake without data: the daemon asks only of TCP sockets)
            Socket::Unix(s) => s.readable().await,
            Socket::TlsServer(_) | Socket::TlsClient(_) => Ok(()),
        }
    }
}

impl AsyncRead for Socket {
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Socket::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Socket::TlsServer(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Socket::TlsClient(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Socket::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Socket::TlsServer(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Socket::TlsClient(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    // Forwarded so that spliced messages (header buffer + borrowed byte strings) go out in one
    // `writev`; the default would write one slice per call.
    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Socket::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Socket::TlsServer(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            Socket::TlsClient(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Socket::Tcp(s) => s.is_write_vectored(),
            Socket::Unix(s) => s.is_write_vectored(),
            Socket::TlsServer(s) => s.is_write_vectored(),
            Socket::TlsClient(s) => s.is_write_vectored(),
        }
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_flush(cx),
            Socket::Unix(s) => Pin::new(s).poll_flush(cx),
            Socket::TlsServer(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Socket::TlsClient(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Socket::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Socket::TlsServer(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Socket::TlsClient(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
