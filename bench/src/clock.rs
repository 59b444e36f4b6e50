//! One monotonic clock for the whole run: send times go into messages as nanoseconds since
//! its start, and receivers in the same process subtract them from their own reading.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    /// Nanoseconds since the clock started.
    pub fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// The instant `ns` nanoseconds after the clock started.
    pub fn at(&self, ns: u64) -> tokio::time::Instant {
        (self.start + Duration::from_nanos(ns)).into()
    }
}
