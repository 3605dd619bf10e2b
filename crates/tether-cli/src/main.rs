//! The `tether` command (being written).
fn main() {}
