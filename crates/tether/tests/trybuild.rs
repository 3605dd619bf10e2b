//! Compile-fail tests: each misuse of the macros gives a clear error at the right place.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p tether --test trybuild`
//! and read the `.stderr` files before committing them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
