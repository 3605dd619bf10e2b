//! Pyro4's message signing: with a shared key, every message carries annotation `HMAC`, the
//! HMAC-SHA1 of the payload (as sent, so compressed if it is) followed by the value of every
//! other annotation in the order of their ids. A receiver with a key refuses a message whose
//! HMAC is missing or wrong; one without a key refuses a message that has one ("hmac key
//! config not symmetric"), as Pyro4 does. SHA-1 is Pyro4's choice; ring offers it for this
//! legacy use only. Pyro5 dropped HMAC: use TLS there.

use ring::hmac;

/// The annotation id of the signature.
pub const HMAC_ID: [u8; 4] = *b"HMAC";
/// Length of an HMAC-SHA1 signature.
pub const HMAC_LEN: usize = 20;

/// A shared secret for Pyro4 message signing.
#[derive(Clone)]
pub struct HmacKey {
    key: hmac::Key,
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacKey(..)")
    }
}

impl HmacKey {
    /// A key from the shared secret's bytes (Pyro4's `_pyroHmacKey`).
    pub fn new(secret: &[u8]) -> HmacKey {
        HmacKey {
            key: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret),
        }
    }

    /// The signature of `payload` followed by the annotations' data in id order (the `HMAC`
    /// annotation itself excluded). `annotations` need not be sorted.
    pub fn sign<'a>(
        &self,
        payload: &[u8],
        annotations: impl IntoIterator<Item = ([u8; 4], &'a [u8])>,
    ) -> [u8; HMAC_LEN] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(payload);
        let mut anns: Vec<([u8; 4], &[u8])> = annotations
            .into_iter()
            .filter(|(id, _)| *id != HMAC_ID)
            .collect();
        // Python keeps one value per id (a dict); a repeated id is refused before signing.
        anns.sort_by_key(|(id, _)| *id);
        for (_, data) in anns {
            ctx.update(data);
        }
        let mut out = [0u8; HMAC_LEN];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Whether `given` is the signature of the message (compared in constant time).
    pub fn verify<'a>(
        &self,
        given: &[u8],
        payload: &[u8],
        annotations: impl IntoIterator<Item = ([u8; 4], &'a [u8])>,
    ) -> bool {
        let want = self.sign(payload, annotations);
        // Constant time: every byte is compared whatever the first difference.
        given.len() == HMAC_LEN
            && given
                .iter()
                .zip(want)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha1_over_payload_then_sorted_annotations() {
        // Python: hmac.new(b"secret", b"data", hashlib.sha1); then update(b"corr"), update(b"xtra")
        let key = HmacKey::new(b"secret");
        let a = key.sign(
            b"data",
            [(*b"XTRA", &b"xtra"[..]), (*b"CORR", &b"corr"[..])],
        );
        let b = key.sign(b"datacorrxtra", []);
        assert_eq!(a, b);
        assert!(key.verify(
            &a,
            b"data",
            [(*b"CORR", &b"corr"[..]), (*b"XTRA", &b"xtra"[..])]
        ));
        assert!(!HmacKey::new(b"other").verify(
            &a,
            b"data",
            [(*b"CORR", &b"corr"[..]), (*b"XTRA", &b"xtra"[..])]
        ));
        assert!(!key.verify(&a[..19], b"data", []));
    }
}
