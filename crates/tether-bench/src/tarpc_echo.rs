//! The Rust-native competitor: a tarpc echo service over TCP with tarpc's bincode transport,
//! which is what a Rust user would reach for instead of tether when both ends are Rust.
//!
//! tarpc's own `serde_transport::tcp` helpers do not set `TCP_NODELAY`; the sockets here are made
//! by hand so tarpc gets the same socket options as every other row (without it, Nagle plus
//! delayed ACK would cost tarpc ~40 ms per call and the comparison would be meaningless).

use crate::drive::{AsyncClient, BoxErr};
use crate::workload::{MAX_FRAME, SMALL_ARG};
use futures::StreamExt;
use serde_bytes::ByteBuf;
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::LengthDelimitedCodec;
use tarpc::{client, context};

/// The echo service, as tarpc declares services.
#[tarpc::service]
pub trait Echo {
    /// Returns its argument.
    async fn echo(s: String) -> String;
    /// Returns its argument (bytes travel as one blob through `serde_bytes`).
    async fn echo_bytes(b: ByteBuf) -> ByteBuf;
}

/// The server side of [`Echo`].
#[derive(Clone)]
struct EchoServer;

impl Echo for EchoServer {
    async fn echo(self, _: context::Context, s: String) -> String {
        s
    }

    async fn echo_bytes(self, _: context::Context, b: ByteBuf) -> ByteBuf {
        b
    }
}

/// The length-delimited socket tarpc's serde transport wraps.
type Framed = tarpc::tokio_util::codec::Framed<tokio::net::TcpStream, LengthDelimitedCodec>;

fn framed(conn: tokio::net::TcpStream) -> Framed {
    LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_framed(conn)
}

/// Serves [`Echo`] on `listener`: one channel per connection, one task per request; never returns.
pub async fn serve(listener: tokio::net::TcpListener) -> Result<(), BoxErr> {
    loop {
        let (conn, _) = listener.accept().await?;
        conn.set_nodelay(true)?;
        let transport = tarpc::serde_transport::new(framed(conn), Bincode::default());
        tokio::spawn(
            BaseChannel::with_defaults(transport)
                .execute(EchoServer.serve())
                .for_each(|fut| async move {
                    tokio::spawn(fut);
                }),
        );
    }
}

/// One tarpc client connection.
pub struct TarpcClient {
    client: EchoClient,
}

impl TarpcClient {
    /// Connects to `addr`.
    pub async fn connect(addr: String) -> Result<TarpcClient, BoxErr> {
        let conn = tokio::net::TcpStream::connect(addr).await?;
        conn.set_nodelay(true)?;
        let transport = tarpc::serde_transport::new(framed(conn), Bincode::default());
        let client = EchoClient::new(client::Config::default(), transport).spawn();
        Ok(TarpcClient { client })
    }
}

impl AsyncClient for TarpcClient {
    async fn small(&mut self) -> Result<(), BoxErr> {
        let got = self
            .client
            .echo(context::current(), SMALL_ARG.to_string())
            .await?;
        if got != SMALL_ARG {
            return Err("tarpc echo returned a different string".into());
        }
        Ok(())
    }

    async fn big(&mut self, payload: Vec<u8>) -> Result<Vec<u8>, BoxErr> {
        let got = self
            .client
            .echo_bytes(context::current(), ByteBuf::from(payload))
            .await?;
        Ok(got.into_vec())
    }
}
