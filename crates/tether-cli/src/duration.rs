//! Durations as ghz and Go take them on the command line: `10s`, `500ms`, `2m`, `1h`,
//! `250us`, or a plain number of seconds (`2.5`).

use std::time::Duration;

/// Reads a duration; zero, negative, not finite or over a year is an error that says what is
/// expected.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic() || c == 'µ')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 10s, 500ms, 2m, 1.5)"))?;
    let secs = match unit.trim() {
        "" | "s" | "sec" => n,
        "ms" => n / 1e3,
        "us" | "µs" => n / 1e6,
        "ns" => n / 1e9,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (ns, us, ms, s, m, h)"
            ))
        }
    };
    if !(secs.is_finite() && secs > 0.0 && secs <= 366.0 * 86400.0) {
        return Err(format!(
            "{text:?} must be a positive duration of at most a year"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_units_and_plain_seconds() {
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["", "0", "-1s", "ten", "5 parsecs", "inf", "NaN"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
