//! Subject fields of a certificate, named as Python's `ssl` names them, and the
//! `verify_fields` rule of Spring Python's `SSLServer`.

use tether_core::TlsSubject;
use x509_parser::prelude::{FromDer, X509Certificate};

/// RFC 3280 long names, as OpenSSL (and so Python's `getpeercert()`) prints them. A crate's
/// own table names some differently (`organizationalUnit`, `uid`), so tether keeps its own.
const LONG_NAMES: &[(&str, &str)] = &[
    ("2.5.4.3", "commonName"),
    ("2.5.4.4", "surname"),
    ("2.5.4.5", "serialNumber"),
    ("2.5.4.6", "countryName"),
    ("2.5.4.7", "localityName"),
    ("2.5.4.8", "stateOrProvinceName"),
    ("2.5.4.9", "streetAddress"),
    ("2.5.4.10", "organizationName"),
    ("2.5.4.11", "organizationalUnitName"),
    ("2.5.4.12", "title"),
    ("2.5.4.17", "postalCode"),
    ("2.5.4.41", "name"),
    ("2.5.4.42", "givenName"),
    ("2.5.4.43", "initials"),
    ("2.5.4.44", "generationQualifier"),
    ("2.5.4.46", "dnQualifier"),
    ("2.5.4.65", "pseudonym"),
    ("0.9.2342.19200300.100.1.1", "userId"),
    ("0.9.2342.19200300.100.1.25", "domainComponent"),
    ("1.2.840.113549.1.9.1", "emailAddress"),
];

/// The subject of a DER certificate: every attribute of every RDN in order, under its long
/// name (an unknown attribute under its dotted OID). Values in a string type the parser does
/// not decode (BMPString and the like) are decoded as UTF-16 or Latin-1.
// The reason is text: the server logs it and refuses the connection with a TlsError of kind
// Refused that carries it.
pub fn subject_of(der: &[u8]) -> Result<TlsSubject, String> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| format!("unreadable certificate: {e}"))?;
    let mut fields = Vec::new();
    for rdn in cert.subject().iter_rdn() {
        for atv in rdn.iter() {
            let oid = atv.attr_type().to_id_string();
            let name = LONG_NAMES
                .iter()
                .find(|(o, _)| *o == oid)
                .map(|(_, n)| n.to_string())
                .unwrap_or(oid);
            let value = match atv.as_str() {
                Ok(s) => s.to_string(),
                Err(_) => decode_other(atv.as_slice()),
            };
            fields.push((name, value));
        }
    }
    Ok(TlsSubject { fields })
}

fn decode_other(raw: &[u8]) -> String {
    if raw.len().is_multiple_of(2) {
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        if let Ok(s) = String::from_utf16(&units) {
            return s;
        }
    }
    raw.iter().map(|&b| b as char).collect()
}

/// Python's `repr()` of a str, enough for the subject dicts in log lines.
fn py_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Checks `fields` against a subject as Spring Python's `SSLServer.verify_peer` does: the
/// subject is read as a dict of the first attribute of each RDN (a repeated name keeps its
/// last value); each expected field, in order, must be present, non-empty and exactly equal.
/// The error is Spring Python's reason text, for the ERROR log line.
pub fn check_fields(subject: &TlsSubject, fields: &[(String, String)]) -> Result<(), String> {
    // The first AVA of each RDN, as Python's dict(x[0] for x in subject).
    let mut dict: Vec<(String, String)> = Vec::new();
    let der_fields = &subject.fields;
    for (name, value) in der_fields {
        match dict.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => dict.push((name.clone(), value.clone())),
        }
    }
    let shown = || {
        let items: Vec<String> = dict
            .iter()
            .map(|(n, v)| format!("{}: {}", py_repr(n), py_repr(v)))
            .collect();
        format!("{{{}}}", items.join(", "))
    };
    for (name, expected) in fields {
        match dict.iter().find(|(n, _)| n == name).map(|(_, v)| v) {
            None => {
                return Err(format!(
                    "Peer didn't send the '{name}' field, subject fields received {}",
                    shown()
                ))
            }
            Some(v) if v.is_empty() => {
                return Err(format!(
                    "Peer didn't send the '{name}' field, subject fields received {}",
                    shown()
                ))
            }
            Some(v) if v != expected => {
                return Err(format!(
                    "Expected the subject field '{name}' to have value '{expected}' instead of '{v}', subject={}",
                    shown()
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(f: &[(&str, &str)]) -> TlsSubject {
        TlsSubject {
            fields: f
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    fn want(f: &[(&str, &str)]) -> Vec<(String, String)> {
        f.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn spring_rules_and_messages() {
        let s = subject(&[
            ("countryName", "US"),
            ("organizationalUnitName", "A"),
            ("organizationalUnitName", "B"),
            ("commonName", "My Client"),
        ]);
        assert!(check_fields(&s, &want(&[("commonName", "My Client")])).is_ok());
        assert!(check_fields(&s, &want(&[("organizationalUnitName", "B")])).is_ok());
        assert_eq!(
            check_fields(&s, &want(&[("commonName", "Other")])).unwrap_err(),
            "Expected the subject field 'commonName' to have value 'Other' instead of 'My Client', subject={'countryName': 'US', 'organizationalUnitName': 'B', 'commonName': 'My Client'}"
        );
        assert!(check_fields(&s, &want(&[("FOO", "BAR")]))
            .unwrap_err()
            .starts_with("Peer didn't send the 'FOO' field, subject fields received {"));
        // Short names never match: Python's names are the long ones.
        assert!(check_fields(&s, &want(&[("CN", "My Client")])).is_err());
        let empty = subject(&[("commonName", "")]);
        assert!(check_fields(&empty, &want(&[("commonName", "")])).is_err());
    }
}
