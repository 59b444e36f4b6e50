//! Users' RSA public keys (seed 002): what is accepted (PEM — SubjectPublicKeyInfo or PKCS#1 —
//! or a JWK, at least 2048 bits), the one form they are stored in (SubjectPublicKeyInfo PEM),
//! and checking a signature: RSASSA-PKCS1-v1_5 with SHA-256.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use serde::Deserialize;
use sha2::Sha256;

use crate::error::AuthError;

pub const MIN_BITS: usize = 2048;
pub const MAX_BITS: usize = 8192;

fn invalid(message: &str) -> AuthError {
    AuthError::Validation(message.to_owned())
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    n: String,
    e: String,
}

/// The key `text` holds, as SubjectPublicKeyInfo PEM; a validation error for anything that is
/// not an RSA public key of [`MIN_BITS`] to [`MAX_BITS`] bits.
pub fn normalize(text: &str) -> Result<String, AuthError> {
    let text = text.trim();
    let key = if text.starts_with('{') {
        let jwk: Jwk = serde_json::from_str(text).map_err(|_| invalid("not a JWK"))?;
        if jwk.kty != "RSA" {
            return Err(invalid("the JWK's kty must be RSA"));
        }
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part.trim_end_matches('='))
                .map_err(|_| invalid("the JWK's n and e must be base64url"))
        };
        let n = BigUint::from_bytes_be(&decode(&jwk.n)?);
        let e = BigUint::from_bytes_be(&decode(&jwk.e)?);
        RsaPublicKey::new_with_max_size(n, e, MAX_BITS)
            .map_err(|_| invalid("not a valid RSA public key"))?
    } else if text.contains("BEGIN RSA PUBLIC KEY") {
        RsaPublicKey::from_pkcs1_pem(text).map_err(|_| invalid("not a PKCS#1 PEM RSA key"))?
    } else {
        RsaPublicKey::from_public_key_pem(text).map_err(|_| invalid("not a PEM RSA public key"))?
    };
    let bits = key.n().bits();
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        return Err(invalid("the key must have 2048 to 8192 bits"));
    }
    key.to_public_key_pem(LineEnding::LF)
        .map_err(AuthError::internal)
}

/// Whether `signature` (base64, standard or URL-safe) is the stored key's RSASSA-PKCS1-v1_5
/// SHA-256 signature of `message`.
pub fn verify(stored_pem: &str, message: &[u8], signature: &str) -> Result<bool, AuthError> {
    let key = RsaPublicKey::from_public_key_pem(stored_pem).map_err(AuthError::internal)?;
    let signature = signature.trim();
    let Ok(bytes) = STANDARD
        .decode(signature)
        .or_else(|_| URL_SAFE_NO_PAD.decode(signature.trim_end_matches('=')))
    else {
        return Ok(false);
    };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
        return Ok(false);
    };
    Ok(VerifyingKey::<Sha256>::new(key)
        .verify(message, &signature)
        .is_ok())
}
