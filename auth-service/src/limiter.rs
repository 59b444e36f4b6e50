//! In-process limit on failed logins per identifier, so one replica cannot be used to guess a
//! password quickly. Each replica counts on its own; the gateway limits per client as well.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::AuthError;

/// How many failed logins an identifier may have within a window.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimit {
    pub max_failures: u32,
    pub window: Duration,
}

impl Default for LoginLimit {
    fn default() -> Self {
        LoginLimit {
            max_failures: 10,
            window: Duration::from_secs(60),
        }
    }
}

/// Above this many tracked identifiers, expired windows are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Failed-login counters in fixed windows, keyed by the folded username or email.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    limit: LoginLimit,
    windows: Mutex<HashMap<String, Window>>,
}

impl LoginLimiter {
    pub fn new(limit: LoginLimit) -> Self {
        LoginLimiter {
            limit,
            windows: Mutex::default(),
        }
    }

    /// Refuses an attempt when the identifier used up its failures in the current window.
    pub fn check(&self, key: &str) -> Result<(), AuthError> {
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.get(key) {
            Some(window)
                if window.started.elapsed() < self.limit.window
                    && window.failures >= self.limit.max_failures =>
            {
                Err(AuthError::TooManyAttempts)
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, key: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, window| now.duration_since(window.started) < self.limit.window);
        }
        let window = windows.entry(key.to_owned()).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.duration_since(window.started) >= self.limit.window {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures += 1;
    }

    /// Forgets the failures of an identifier that just logged in.
    pub fn clear(&self, key: &str) {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{LoginLimit, LoginLimiter};

    #[test]
    fn the_attempt_after_the_last_allowed_failure_is_refused() {
        let limiter = LoginLimiter::new(LoginLimit {
            max_failures: 3,
            window: Duration::from_secs(60),
        });
        for _ in 0..3 {
            assert!(limiter.check("вася").is_ok());
            limiter.record_failure("вася");
        }
        assert!(limiter.check("вася").is_err());
        assert!(limiter.check("петя").is_ok());
        limiter.clear("вася");
        assert!(limiter.check("вася").is_ok());
    }

    #[test]
    fn failures_expire_with_their_window() {
        let limiter = LoginLimiter::new(LoginLimit {
            max_failures: 1,
            window: Duration::ZERO,
        });
        limiter.record_failure("user");
        assert!(limiter.check("user").is_ok());
    }
}
