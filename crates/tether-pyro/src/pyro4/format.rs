//! [`Pyro4`]: the Pyro4 frame as a [`FrameFormat`] for the shared bounded reader.

use super::header::{Header4, HEADER_SIZE};
use crate::framing::{FrameError, FrameFormat};

/// The Pyro4 wire's frame format.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pyro4;

impl FrameFormat for Pyro4 {
    type Header = Header4;
    const HEADER_SIZE: usize = HEADER_SIZE;

    fn check_prefix(buf: &[u8]) -> Result<(), FrameError<Header4>> {
        Header4::check_prefix(&buf[..buf.len().min(6)])
    }

    fn parse_header(buf: &[u8], max_size: usize) -> Result<Header4, FrameError<Header4>> {
        Header4::parse(buf, max_size)
    }

    fn body_len(header: &Header4) -> u64 {
        header.body_len()
    }
}
