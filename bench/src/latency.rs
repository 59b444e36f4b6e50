//! Latencies in an HDR histogram (microseconds, three significant digits, up to an hour), and
//! the percentiles a report shows.

use hdrhistogram::Histogram;
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct Latency {
    histogram: Histogram<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

/// Percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

const HOUR_US: u64 = 3_600_000_000;

impl Latency {
    pub fn new() -> Self {
        Self {
            histogram: Histogram::new_with_bounds(1, HOUR_US, 3).expect("valid bounds"),
        }
    }

    /// Records the time from `from_ns` to `to_ns` (a reply that beats its schedule counts as 1 µs).
    pub fn record_between(&mut self, from_ns: u64, to_ns: u64) {
        let micros = to_ns.saturating_sub(from_ns) / 1_000;
        self.histogram.saturating_record(micros.max(1));
    }

    pub fn record_duration(&mut self, duration: std::time::Duration) {
        self.histogram
            .saturating_record((duration.as_micros() as u64).max(1));
    }

    pub fn merge(&mut self, other: &Latency) {
        // Same bounds on both sides, so the addition cannot fail.
        let _ = self.histogram.add(&other.histogram);
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    pub fn summary(&self) -> Summary {
        let h = &self.histogram;
        if h.is_empty() {
            return Summary::default();
        }
        let ms = |us: u64| us as f64 / 1_000.0;
        Summary {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1_000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Latency;

    #[test]
    fn percentiles_come_out_in_milliseconds() {
        let mut latency = Latency::new();
        for ms in 1..=100u64 {
            latency.record_between(0, ms * 1_000_000);
        }
        let summary = latency.summary();
        assert_eq!(summary.count, 100);
        assert!((summary.p50_ms - 50.0).abs() < 0.1, "{summary:?}");
        assert!((summary.max_ms - 100.0).abs() < 0.1, "{summary:?}");
    }
}
