//! SIGINT and SIGTERM for the serving commands (`run`, `echo-server`, `ns`, `gateway`).
//!
//! A serving command shuts down gracefully on either signal, whenever it arrives. Until a
//! handler is installed a signal's default action kills the process, and the handlers can only
//! be installed once the async runtime exists: a supervisor that sends SIGTERM in the first
//! milliseconds (a deploy rolled back at once, a test) would otherwise kill a half-started
//! server. So [`Held::hold`] blocks both signals on the main thread before the runtime is built
//! (its worker threads inherit the mask, so no thread takes them), and [`watch`] installs the
//! handlers and then unblocks them on the main thread: a signal that came in between is
//! delivered at that moment, to the handler, and ends in the same graceful shutdown as a late
//! one. Only the main thread ever unblocks them, so that is where the kernel delivers them.
//!
//! A second signal while the graceful shutdown runs (in-flight calls finishing, directory
//! entries withdrawn, destroy hooks) ends the process at once ([`Signals::or_exit_on_second`]),
//! as an operator who presses Ctrl-C twice expects: exit status 128 + the signal's number.

use std::marker::PhantomData;

/// SIGINT and SIGTERM blocked on the thread that made this (the main thread, before the
/// runtime's threads are started). Not `Send`: the thread that blocked them unblocks them.
pub(crate) struct Held {
    _thread: PhantomData<*const ()>,
}

impl Held {
    /// Blocks SIGINT and SIGTERM on the calling thread (and so on every thread it starts).
    pub(crate) fn hold() -> Held {
        #[cfg(unix)]
        {
            // Blocking two valid signals on this thread cannot fail; if it ever did, the
            // process would only lose the early window this closes.
            let _ = nix::sys::signal::pthread_sigmask(
                nix::sys::signal::SigmaskHow::SIG_BLOCK,
                Some(&both()),
                None,
            );
        }
        Held {
            _thread: PhantomData,
        }
    }
}

impl Drop for Held {
    // Unblocked however the command ends (a failure before it watched the signals included),
    // so a held signal is never kept from its default action for longer than start-up.
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            let _ = nix::sys::signal::pthread_sigmask(
                nix::sys::signal::SigmaskHow::SIG_UNBLOCK,
                Some(&both()),
                None,
            );
        }
    }
}

#[cfg(unix)]
fn both() -> nix::sys::signal::SigSet {
    let mut set = nix::sys::signal::SigSet::empty();
    set.add(nix::sys::signal::Signal::SIGINT);
    set.add(nix::sys::signal::Signal::SIGTERM);
    set
}

/// The serving command's shutdown signals, installed: [`Signals::wait`] resolves on the first
/// SIGINT or SIGTERM received since [`watch`], or held before it.
pub(crate) struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

/// Installs the handlers (inside the runtime), then releases what `held` kept back, so a
/// signal held during start-up reaches them. Call it on the thread that made `held`: the
/// serving command's own future, which `block_on` polls on the main thread.
pub(crate) fn watch(held: Option<Held>) -> std::io::Result<Signals> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        }
    };
    #[cfg(not(unix))]
    let signals = Signals {};
    drop(held);
    Ok(signals)
}

impl Signals {
    /// Resolves on SIGINT or SIGTERM (Ctrl-C off Unix) with the exit status a process killed
    /// by it has: 130 for SIGINT, 143 for SIGTERM.
    pub(crate) async fn wait(&mut self) -> u8 {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => 128 + 15,
                _ = self.int.recv() => 128 + 2,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            128 + 2
        }
    }

    /// Runs `shutdown` (the graceful one) to its end, unless another signal comes first: then
    /// says so on stderr and exits the process at once, with 128 + the signal's number.
    pub(crate) async fn or_exit_on_second<F: std::future::Future>(
        &mut self,
        shutdown: F,
    ) -> F::Output {
        tokio::select! {
            out = shutdown => out,
            code = self.wait() => {
                eprintln!("tether: a second signal during the shutdown: exiting now");
                std::process::exit(i32::from(code))
            }
        }
    }
}
