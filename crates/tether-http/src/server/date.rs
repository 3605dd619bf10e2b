//! The `Date` header of replies (HTTP/1.1 asks an origin server with a clock to send one),
//! formatted once a second per thread rather than once a reply.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

/// `Sun, 06 Nov 1994 08:49:37 GMT`: 29 bytes.
const LEN: usize = 29;

thread_local! {
    /// The second formatted last, and its text.
    static CACHE: RefCell<(u64, [u8; LEN])> = const { RefCell::new((u64::MAX, [b' '; LEN])) };
}

/// Appends the current date in the IMF-fixdate form to `out`.
pub(crate) fn append(out: &mut Vec<u8>) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != secs {
            *c = (secs, format(secs));
        }
        out.extend_from_slice(&c.1);
    });
}

/// The IMF-fixdate of `secs` after the Unix epoch.
fn format(secs: u64) -> [u8; LEN] {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = tether_core::python::civil_from_days(days);
    let text = std::format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(m as usize).clamp(1, 12) - 1],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    let mut out = [b' '; LEN];
    let n = text.len().min(LEN);
    out[..n].copy_from_slice(&text.as_bytes()[..n]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn imf_fixdate() {
        assert_eq!(&super::format(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            &super::format(784_111_777),
            b"Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            &super::format(1_796_596_800),
            b"Sun, 06 Dec 2026 22:40:00 GMT"
        );
    }
}
