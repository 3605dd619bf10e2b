//! OpenSSL cipher strings (Python's `ciphers` argument) read into rustls suites.
//!
//! rustls has six TLS 1.2 suites (ECDHE with ECDSA or RSA, AES-128-GCM, AES-256-GCM or
//! ChaCha20-Poly1305) and three TLS 1.3 ones. A cipher string chooses among the TLS 1.2 ones,
//! in its order, with OpenSSL's syntax: names (`ECDHE-RSA-AES256-GCM-SHA384`), aliases (`HIGH`,
//! `ECDHE`, `AESGCM`, `AES256`, `CHACHA20`, `aRSA`, `ECDSA`, ...), `+` joining conditions,
//! `!` (never), `-` (remove) and `+` (move to the end) in front, `:`/`,`/space between. As
//! in OpenSSL the TLS 1.3 suites are not chosen by it. Aliases of what rustls does not have
//! (`RC4`, `3DES`, `aNULL`, static `RSA` key exchange, ...) match nothing, so Python's usual
//! exclusion lists read as they should; a string that leaves no TLS 1.2 suite is an error.

use crate::TlsError;
use rustls::crypto::ring::cipher_suite as cs;
use rustls::SupportedCipherSuite;

/// One TLS 1.2 suite with the attributes aliases test.
struct Suite {
    openssl: &'static str,
    suite: SupportedCipherSuite,
    ecdsa: bool,
    enc: &'static str,
}

fn suites() -> [Suite; 6] {
    [
        Suite {
            openssl: "ECDHE-ECDSA-AES256-GCM-SHA384",
            suite: cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            ecdsa: true,
            enc: "AES256GCM",
        },
        Suite {
            openssl: "ECDHE-RSA-AES256-GCM-SHA384",
            suite: cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            ecdsa: false,
            enc: "AES256GCM",
        },
        Suite {
            openssl: "ECDHE-ECDSA-CHACHA20-POLY1305",
            suite: cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            ecdsa: true,
            enc: "CHACHA20",
        },
        Suite {
            openssl: "ECDHE-RSA-CHACHA20-POLY1305",
            suite: cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            ecdsa: false,
            enc: "CHACHA20",
        },
        Suite {
            openssl: "ECDHE-ECDSA-AES128-GCM-SHA256",
            suite: cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            ecdsa: true,
            enc: "AES128GCM",
        },
        Suite {
            openssl: "ECDHE-RSA-AES128-GCM-SHA256",
            suite: cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            ecdsa: false,
            enc: "AES128GCM",
        },
    ]
}

/// Whether `s` has the one condition `c` (a name or an alias).
fn has(s: &Suite, c: &str) -> bool {
    match c {
        "ALL"
        | "DEFAULT"
        | "COMPLEMENTOFDEFAULT"
        | "HIGH"
        | "ECDHE"
        | "EECDH"
        | "kEECDH"
        | "kECDHE"
        | "AEAD"
        | "TLSv1.2"
        | "SSLv3"
        | "FIPS" => true,
        "ECDSA" | "aECDSA" => s.ecdsa,
        "aRSA" => !s.ecdsa,
        "AES" => s.enc.starts_with("AES"),
        "AESGCM" => s.enc.ends_with("GCM"),
        "AES128" => s.enc == "AES128GCM",
        "AES256" => s.enc == "AES256GCM",
        "CHACHA20" => s.enc == "CHACHA20",
        "SHA384" => s.openssl.ends_with("SHA384"),
        "SHA256" => s.openssl.ends_with("SHA256") || s.enc == "CHACHA20",
        name => s.openssl.eq_ignore_ascii_case(name),
    }
}

/// Checks an OpenSSL cipher string: an error when it chooses no TLS 1.2 suite tether has.
pub fn check_ciphers(spec: &str) -> Result<(), TlsError> {
    choose(spec).map(|_| ())
}

/// The TLS 1.2 suites `spec` chooses, in its order (plus the TLS 1.3 suites, first).
pub(crate) fn choose(spec: &str) -> Result<Vec<SupportedCipherSuite>, TlsError> {
    let all = suites();
    let mut list: Vec<usize> = Vec::new();
    let mut banned: Vec<usize> = Vec::new();
    for token in spec.split([':', ',', ' ']).filter(|t| !t.is_empty()) {
        if token.starts_with('@') {
            continue; // @STRENGTH, @SECLEVEL=n: rustls's suites are all strong
        }
        let (op, rest) = match token.as_bytes()[0] {
            b'!' | b'-' | b'+' => (token.as_bytes()[0], &token[1..]),
            _ => (b' ', token),
        };
        let matched: Vec<usize> = (0..all.len())
            .filter(|i| rest.split('+').all(|c| has(&all[*i], c)))
            .collect();
        match op {
            b'!' => {
                banned.extend(&matched);
                list.retain(|i| !matched.contains(i));
            }
            b'-' => list.retain(|i| !matched.contains(i)),
            b'+' => {
                let moved: Vec<usize> = list
                    .iter()
                    .copied()
                    .filter(|i| matched.contains(i))
                    .collect();
                list.retain(|i| !matched.contains(i));
                list.extend(moved);
            }
            _ => {
                for i in matched {
                    if !list.contains(&i) && !banned.contains(&i) {
                        list.push(i);
                    }
                }
            }
        }
    }
    if list.is_empty() {
        return Err(TlsError::config(format!(
            "ciphers {spec:?} names none of the TLS 1.2 suites tether has ({})",
            all.iter().map(|s| s.openssl).collect::<Vec<_>>().join(", ")
        )));
    }
    let mut out = vec![
        cs::TLS13_AES_256_GCM_SHA384,
        cs::TLS13_AES_128_GCM_SHA256,
        cs::TLS13_CHACHA20_POLY1305_SHA256,
    ];
    out.extend(list.into_iter().map(|i| all[i].suite));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(spec: &str) -> Vec<String> {
        choose(spec)
            .unwrap()
            .into_iter()
            .skip(3)
            .map(|s| format!("{:?}", s.suite()))
            .collect()
    }

    #[test]
    fn openssl_strings() {
        assert_eq!(
            names("ECDHE-RSA-AES256-GCM-SHA384"),
            ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]
        );
        assert_eq!(names("ECDHE+AESGCM:!ECDSA").len(), 2);
        assert_eq!(names("HIGH:!aNULL:!MD5:!RC4").len(), 6);
        // Python's default list
        assert_eq!(
            names("DEFAULT:!aNULL:!eNULL:!MD5:!3DES:!DES:!RC4:!IDEA:!SEED:!aDSS:!SRP:!PSK").len(),
            6
        );
        assert_eq!(names("CHACHA20:+AES128:AES128"), {
            let mut v = names("CHACHA20");
            v.extend(names("AES128"));
            v
        });
        assert_eq!(names("ALL:-AES256:@STRENGTH").len(), 4);
        assert!(choose("RC4-SHA:DES-CBC3-SHA").is_err());
        assert!(choose("").is_err());
    }
}
