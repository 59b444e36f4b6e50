//! Password hashing with argon2id, off the async threads: one hash takes tens of milliseconds
//! and 19 MiB. At most one hash per core runs at a time; the rest wait their turn, so a burst of
//! logins neither starves the machine nor grows the heap by 19 MiB a login.

use argon2::password_hash::Error as HashError;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::AuthError;

static HASHING: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();

/// Runs one argon2 computation on the blocking pool, when a core is free for it.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    let permits = HASHING.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        tokio::sync::Semaphore::new(cores)
    });
    let _permit = permits.acquire().await.map_err(AuthError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AuthError::internal)?
}

/// The PHC string (`$argon2id$v=19$...`) of `password` with a fresh random salt.
pub async fn hash(password: String) -> Result<String, AuthError> {
    hashing(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| AuthError::internal(format!("cannot hash a password: {error}")))
    })
    .await
}

/// Whether `password` matches the stored PHC string; a malformed hash is an internal error.
pub async fn verify(password: String, phc: String) -> Result<bool, AuthError> {
    hashing(
        move || match Argon2::default().verify_password(password.as_bytes(), phc.as_str()) {
            Ok(()) => Ok(true),
            Err(HashError::PasswordInvalid) => Ok(false),
            Err(error) => Err(AuthError::internal(format!(
                "cannot verify a password: {error}"
            ))),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let phc = super::hash("0000".to_owned()).await.expect("hashing works");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(
            super::verify("0000".to_owned(), phc.clone())
                .await
                .expect("verifies")
        );
        assert!(
            !super::verify("0001".to_owned(), phc)
                .await
                .expect("verifies")
        );
    }
}
