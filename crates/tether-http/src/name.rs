//! Comparing a header name as it came with one the code looks for.

/// Whether the header name `name` is `want` (letters, digits and `-`), in any case. `name` is
/// a token (neither parser lets another byte through): setting bit 5 makes an upper-case
/// letter lower-case and leaves lower-case letters, digits and `-` as they are, and turns no
/// other token byte into one of them (only CR would become `-`, and 0x10-0x19 digits), so
/// two ORs and a comparison a byte decide it, where `eq_ignore_ascii_case` maps both bytes
/// through a case table.
pub(crate) fn token_is(name: &[u8], want: &[u8]) -> bool {
    name.len() == want.len() && name.iter().zip(want).all(|(&n, &w)| n | 0x20 == w | 0x20)
}

#[cfg(test)]
mod tests {
    /// Over every token byte a name can hold and every byte a wanted name holds, the
    /// comparison is `eq_ignore_ascii_case`.
    #[test]
    fn header_names_compare_as_eq_ignore_ascii_case() {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        let wanted = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
        for n in (0..=255u8).filter(|&b| token(b)) {
            for w in (0..=255u8).filter(|&b| wanted(b)) {
                assert_eq!(
                    super::token_is(&[n], &[w]),
                    n.eq_ignore_ascii_case(&w),
                    "{n} {w}"
                );
            }
        }
        assert!(super::token_is(b"X-B3-TRACEID", b"X-B3-TraceId"));
        assert!(!super::token_is(b"content_length", b"content-length"));
        assert!(!super::token_is(b"content-lengthy", b"content-length"));
    }
}
