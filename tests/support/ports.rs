//! Listening ports for the processes a test starts and restarts itself.
//!
//! A port from `bind("127.0.0.1:0")` is released before the process binds it, and it lies in
//! the kernel's ephemeral range: until the process is up (and again after every kill), the
//! kernel may hand the same number to the next `bind(0)` or to an outgoing connection's local
//! end, and the process then fails with "Address already in use". These ports are drawn below
//! the ephemeral range, where neither happens, and are distinct within one `Ports`.

use std::collections::BTreeSet;

pub struct Ports {
    given: BTreeSet<u16>,
    range: (u16, u16),
}

impl Ports {
    pub fn new() -> Self {
        Self {
            given: BTreeSet::new(),
            range: below_ephemeral(),
        }
    }

    /// A port nothing listens on now and this allocator has not given before.
    pub fn take(&mut self) -> u16 {
        let (low, high) = self.range;
        for _ in 0..1000 {
            // Random, so that concurrent test processes spread over the range.
            let draw = uuid::Uuid::new_v4().as_u128() % u128::from(high - low);
            let port = low + draw as u16;
            if !self.given.contains(&port)
                && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            {
                self.given.insert(port);
                return port;
            }
        }
        panic!("no free port in {low}..{high}");
    }
}

/// Ports outside the kernel's ephemeral range (Linux: ip_local_port_range, 32768–60999 by
/// default): under it, above the well-known and registered services most machines run.
fn below_ephemeral() -> (u16, u16) {
    let range: Vec<u16> = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .map(|range| {
            range
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    match range[..] {
        [low, _] if low > 15000 => (10000, low),
        [_, high] if high < 64000 => (high + 1, 65535),
        [] => (10000, 32768),
        // The whole space is ephemeral: distinct ports are all that can be promised.
        _ => (10000, 65535),
    }
}
