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

/// The alignment every mimalloc block has whatever its size (its smallest block is a word, and
/// every block size a whole number of words).
#[doc(hidden)]
pub const WORD_ALIGNED: usize = std::mem::size_of::<usize>();

/// Defines `$name`, mimalloc as a Rust global allocator: blocks of a word's alignment or less
/// (nearly all) go through mimalloc's plain calls (`mi_malloc`, `mi_zalloc`, `mi_realloc`),
/// over-aligned ones through its aligned calls. [`mimalloc_allocator!`](crate::mimalloc_allocator!)
/// makes one the program's allocator; a program with an allocator of its own can hand it
/// blocks (tether-bench does).
///
/// Why not the `mimalloc` crate's allocator: it sends every block through
/// `mi_malloc_aligned`, whose fast path takes a block only from the free list a page has at
/// hand; when that list is empty it over-allocates (a block of a larger size, aligned by
/// hand) instead of taking back the blocks freed to the page, as `mi_malloc` does. A Pyro5
/// server's call allocated one block that way every time: under callgrind, 155 instructions
/// for it where its other blocks took 40.
#[macro_export]
macro_rules! mimalloc_type {
    ($vis:vis $name:ident) => {
        /// mimalloc as a global allocator (`tether_cli::mimalloc_type!`).
        $vis struct $name;

        // SAFETY: every block comes from mimalloc and goes back to it (`mi_free` frees a
        // block of either family); a block is only asked for with an alignment mimalloc
        // gives: a word's (which every block has) through the plain calls, any other through
        // the aligned calls.
        unsafe impl ::std::alloc::GlobalAlloc for $name {
            #[inline]
            unsafe fn alloc(&self, layout: ::std::alloc::Layout) -> *mut u8 {
                use $crate::allocator::libmimalloc_sys as mi;
                if layout.align() <= $crate::allocator::WORD_ALIGNED {
                    mi::mi_malloc(layout.size()).cast()
                } else {
                    mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
                }
            }

            #[inline]
            unsafe fn alloc_zeroed(&self, layout: ::std::alloc::Layout) -> *mut u8 {
                use $crate::allocator::libmimalloc_sys as mi;
                if layout.align() <= $crate::allocator::WORD_ALIGNED {
                    mi::mi_zalloc(layout.size()).cast()
                } else {
                    mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
                }
            }

            #[inline]
            unsafe fn dealloc(&self, ptr: *mut u8, _layout: ::std::alloc::Layout) {
                $crate::allocator::libmimalloc_sys::mi_free(ptr.cast())
            }

            #[inline]
            unsafe fn realloc(
                &self,
                ptr: *mut u8,
                layout: ::std::alloc::Layout,
                new_size: usize,
            ) -> *mut u8 {
                use $crate::allocator::libmimalloc_sys as mi;
                if layout.align() <= $crate::allocator::WORD_ALIGNED {
                    mi::mi_realloc(ptr.cast(), new_size).cast()
                } else {
                    mi::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
                }
            }
        }
    };
}

/// `mi_option_arena_eager_commit`'s number in mimalloc 3's `mi_option_e` (libmimalloc-sys is
/// pinned in Cargo.toml, so the number cannot change under it).
#[doc(hidden)]
pub const ARENA_EAGER_COMMIT: i32 = 4;

/// Makes mimalloc the program's global allocator, with its arenas committed as they are used
/// (see [`mimalloc_lazy_commit!`](crate::mimalloc_lazy_commit!)).
#[macro_export]
macro_rules! mimalloc_allocator {
    () => {
        $crate::mimalloc_type!(TetherMimalloc);

        #[global_allocator]
        static TETHER_ALLOCATOR: TetherMimalloc = TetherMimalloc;

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
