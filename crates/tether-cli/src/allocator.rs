//! The `tether` binary's allocator: mimalloc, its arenas committed as they are used.
//!
//! A call allocates a dozen small buffers; mimalloc takes 4-10% fewer instructions a call than
//! glibc's allocator on every server (callgrind, 64 connections: Pyro5 7,239 -> 6,883, Pyro 3
//! 8,779 -> 7,879, Hessian 11,072 -> 10,612, XML-RPC 12,326 -> 12,003). Committing its arenas
//! as they are used, not whole when made, keeps an idle connection as cheap as with glibc's
//! allocator (7.7 KB a connection at 10,000; 8.0 KB with mimalloc's eager commit).
//!
//! A library leaves the allocator to the program, so this is a macro the program expands at
//! its crate root (the `tether` binary and tether-bench do):
//!
//! ```no_run
//! tether_cli::mimalloc_allocator!();
//!
//! fn main() -> std::process::ExitCode {
//!     tether_cli::run_main(tether::ClassRegistry::from_inventory())
//! }
//! ```

#[doc(hidden)]
pub use libmimalloc_sys;
#[doc(hidden)]
pub use mimalloc;

/// `mi_option_arena_eager_commit`'s number in mimalloc 3's `mi_option_e` (libmimalloc-sys is
/// pinned in Cargo.toml, so the number cannot change under it).
#[doc(hidden)]
pub const ARENA_EAGER_COMMIT: i32 = 4;

/// Makes mimalloc the program's global allocator, with its arenas committed as they are used
/// (see [`mimalloc_lazy_commit!`](crate::mimalloc_lazy_commit!)).
#[macro_export]
macro_rules! mimalloc_allocator {
    () => {
        #[global_allocator]
        static TETHER_ALLOCATOR: $crate::allocator::mimalloc::MiMalloc =
            $crate::allocator::mimalloc::MiMalloc;

        $crate::mimalloc_lazy_commit!();
    };
}

/// Has mimalloc commit its arenas as they are used, for a program whose global allocator is
/// (or hands most blocks to) mimalloc. The option is set by an ELF constructor, run before
/// `main` and Rust's runtime: the arena made at the first allocation serves the whole run, so
/// setting it in `main` would be late.
#[macro_export]
macro_rules! mimalloc_lazy_commit {
    () => {
        #[cfg(target_os = "linux")]
        #[used]
        #[link_section = ".init_array"]
        static TETHER_ALLOCATOR_LAZY_COMMIT: extern "C" fn() = {
            extern "C" fn lazy_commit() {
                // SAFETY: sets one of mimalloc's options (a number in its table) before
                // anything has allocated; nothing else runs yet.
                unsafe {
                    $crate::allocator::libmimalloc_sys::mi_option_set(
                        $crate::allocator::ARENA_EAGER_COMMIT,
                        0,
                    )
                };
            }
            lazy_commit
        };
    };
}
