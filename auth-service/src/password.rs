//! Password hashing with argon2id, off the async threads: one hash takes tens of milliseconds
//! and 19 MiB. Hashes run on a few threads of their own, one per core, each hashing in the same
//! 19 MiB every time: a burst of logins neither starves the machine nor grows the heap. (With a
//! fresh 19 MiB block per hash on tokio's blocking pool, the allocator kept block after block in
//! per-thread heaps: a thousand logins left the single process at ~600 MiB.)

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock, mpsc};

use argon2::password_hash::Error as HashError;
use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};

use crate::error::AuthError;

type Job = Box<dyn FnOnce() + Send>;

/// The queue of the hashing threads, started with the first hash.
static HASHERS: OnceLock<mpsc::Sender<Job>> = OnceLock::new();

thread_local! {
    /// The hashing thread's argon2 memory, grown to the largest cost it has hashed with.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn hashers() -> &'static mpsc::Sender<Job> {
    HASHERS.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        for n in 0..cores {
            let receiver = receiver.clone();
            let started = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match receiver.lock() {
                            Ok(queue) => queue.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            // A job that panics fails its asker only, not the thread.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                            }
                            Err(mpsc::RecvError) => return,
                        }
                    }
                });
            if let Err(error) = started {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        sender
    })
}

/// Runs one argon2 computation on the hashing threads, in turn with the others.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // The asker may have gone (its client hung up): the result is then not wanted.
        let _ = done.send(work());
    });
    hashers()
        .send(job)
        .map_err(|_| AuthError::internal("the password hashing threads are gone"))?;
    result
        .await
        .map_err(|_| AuthError::internal("a password hashing thread failed"))?
}

/// argon2 of `password` and `salt` into `out`, in this thread's memory.
fn compute(argon2: &Argon2, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    MEMORY.with_borrow_mut(|memory| {
        let blocks = argon2.params().block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

fn hash_error(error: impl std::fmt::Display) -> AuthError {
    AuthError::internal(format!("cannot hash a password: {error}"))
}

/// The PHC string (`$argon2id$v=19$...`) of `password` with a fresh random salt.
pub async fn hash(password: String) -> Result<String, AuthError> {
    hashing(move || {
        let argon2 = Argon2::default();
        let salt = argon2::password_hash::try_generate_salt().map_err(hash_error)?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        compute(&argon2, password.as_bytes(), &salt, &mut out).map_err(hash_error)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon2.params()).map_err(hash_error)?,
            salt: Some(Salt::new(&salt).map_err(hash_error)?),
            hash: Some(Output::new(&out).map_err(hash_error)?),
        };
        Ok(phc.to_string())
    })
    .await
}

/// Whether `password` matches the stored PHC string; a malformed hash is an internal error.
pub async fn verify(password: String, phc: String) -> Result<bool, AuthError> {
    hashing(move || matches(password.as_bytes(), &phc)).await
}

fn matches(password: &[u8], phc: &str) -> Result<bool, AuthError> {
    let unusable =
        |error: HashError| AuthError::internal(format!("cannot verify a password: {error}"));
    let stored = PasswordHash::new(phc).map_err(|e| unusable(e.into()))?;
    // As argon2's own verifier: a hash without salt or output matches no password.
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(stored.algorithm.as_str()).map_err(unusable)?;
    let version = match stored.version {
        Some(version) => Version::try_from(version).map_err(|e| unusable(e.into()))?,
        None => Version::default(),
    };
    let params = Params::try_from(&stored).map_err(unusable)?;
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    compute(&argon2, password, salt.as_ref(), &mut out).map_err(|e| unusable(e.into()))?;
    // Output compares in constant time.
    Ok(Output::new(&out).map_err(|e| unusable(e.into()))? == *expected)
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

    /// Hashes stored before the hashing threads (argon2's own PHC strings, other costs
    /// included) still verify, and what is stored now verifies with argon2's own verifier.
    #[tokio::test]
    async fn hashes_agree_with_argon2s_own() {
        use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
        let cheap = Params::new(1024, 2, 1, Some(32)).expect("valid parameters");
        for argon2 in [
            Argon2::default(),
            Argon2::new(Algorithm::Argon2id, Version::V0x13, cheap),
        ] {
            let theirs = argon2.hash_password(b"s3cret").expect("hashes").to_string();
            assert!(
                super::verify("s3cret".into(), theirs.clone())
                    .await
                    .unwrap()
            );
            assert!(!super::verify("s3cret!".into(), theirs).await.unwrap());
        }
        let ours = super::hash("s3cret".to_owned()).await.expect("hashes");
        Argon2::default()
            .verify_password(b"s3cret", ours.as_str())
            .expect("argon2 verifies what we stored");
        let malformed = super::verify("s3cret".into(), "$argon2id$nonsense".into()).await;
        assert!(malformed.is_err(), "{malformed:?}");
    }
}
