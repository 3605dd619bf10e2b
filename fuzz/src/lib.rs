//! What every fuzz target shares: an allocator that turns one oversized allocation into a
//! crash. libFuzzer's `-malloc_limit_mb` only works under a sanitizer's malloc hooks, and the
//! targets are built without AddressSanitizer (the library crates forbid `unsafe`), so this
//! is how a decoder that trusts a lying length (`Vec::with_capacity(4 GiB)`, which the kernel
//! would happily over-commit) is still caught. Each target links it with `use tether_fuzz as _;`.
use std::alloc::{GlobalAlloc, Layout, System};

/// The largest single allocation a decoder may make on fuzz input (the targets' message limits
/// are 1 MiB to 16 MiB; inflation caps and budgets keep every buffer well below this).
pub const MAX_ALLOCATION: usize = 256 << 20;

struct Capped;

fn refuse(size: usize) -> ! {
    eprintln!("tether-fuzz: an allocation of {size} bytes (limit {MAX_ALLOCATION}): a decoder trusted a length");
    std::process::abort()
}

// SAFETY: every method forwards to the system allocator unchanged, after a size check that
// only aborts.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            refuse(layout.size());
        }
        // SAFETY: the caller's layout contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            refuse(layout.size());
        }
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > MAX_ALLOCATION {
            refuse(new_size);
        }
        // SAFETY: as above; `ptr` came from this allocator, which is System's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Capped = Capped;
