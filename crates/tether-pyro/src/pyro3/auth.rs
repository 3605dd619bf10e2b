//! The connect handshake's secrets: the server's 16-byte challenge and the client's token,
//! HMAC-MD5 keyed by the challenge over the client's identification (the MD5 of its
//! passphrase, or nothing). MD5 is what the Python 2 peers compute; it authenticates the
//! connection only (no message integrity, no encryption), which the docs say plainly.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};

/// Size of the challenge.
pub const CHALLENGE_SIZE: usize = 16;

/// A fresh random challenge.
pub fn challenge() -> [u8; CHALLENGE_SIZE] {
    let mut c = [0u8; CHALLENGE_SIZE];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut c).is_err() {
        // No system randomness: a unique value still makes tokens non-replayable.
        c.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    c
}

/// The identification a passphrase stands for on the wire (Pyro's `mungeIdent`).
pub fn ident(passphrase: Option<&[u8]>) -> Vec<u8> {
    match passphrase {
        Some(p) if !p.is_empty() => Md5::digest(p).to_vec(),
        _ => Vec::new(),
    }
}

/// The token for `ident` under `challenge`.
pub fn token(challenge: &[u8], ident: &[u8]) -> [u8; 16] {
    // HMAC accepts keys of any length; a 16-byte challenge cannot fail.
    let mut mac = match <Hmac<Md5> as Mac>::new_from_slice(challenge) {
        Ok(m) => m,
        Err(_) => return [0; 16],
    };
    mac.update(ident);
    mac.finalize().into_bytes().into()
}

/// Whether `got` is the token for `ident` under `challenge`, compared in constant time.
pub fn verify(challenge: &[u8], ident: &[u8], got: &[u8]) -> bool {
    // `verify_slice` compares in constant time.
    match <Hmac<Md5> as Mac>::new_from_slice(challenge) {
        Ok(mut mac) => {
            mac.update(ident);
            mac.verify_slice(got).is_ok()
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_as_python2_computes_them() {
        // python2: hmac.new('0123456789abcdef', md5.new('secret').digest()).hexdigest()
        let id = ident(Some(b"secret"));
        assert_eq!(hex(&id), "5ebe2294ecd0e0f08eab7690d2a6ee69");
        let t = token(b"0123456789abcdef", &id);
        assert_eq!(hex(&t), PY2_TOKEN);
        assert!(verify(b"0123456789abcdef", &id, &t));
        assert!(!verify(b"0123456789abcdef", &ident(Some(b"other")), &t));
        assert!(!verify(b"0123456789abcdef", &id, &t[..15]));
        // No passphrase: HMAC over the empty string.
        assert_eq!(ident(None), Vec::<u8>::new());
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    const PY2_TOKEN: &str = "936a957b5f696b2a15eada3b5447c34a";
}
