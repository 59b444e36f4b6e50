//! Loopback only: every URL the tool connects to (gateways, and the `messaging_url`s they hand
//! out) must name 127.0.0.0/8 or ::1 literally; client sockets are spread over source
//! addresses 127.0.0.2, 127.0.0.3, … so that one target port can take more than 64k of them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};
use reqwest::Url;

/// Parses `url` and refuses anything but a loopback IP literal over http(s) or ws(s).
pub fn loopback(url: &str) -> anyhow::Result<Url> {
    let parsed = Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https" | "ws" | "wss") {
        bail!("{url}: only http, https, ws and wss URLs are driven");
    }
    socket_address(&parsed)?;
    Ok(parsed)
}

/// The loopback address and port a URL points at.
pub fn socket_address(url: &Url) -> anyhow::Result<SocketAddr> {
    let host = url.host_str().with_context(|| format!("{url}: no host"))?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = literal.parse().map_err(|_| {
        anyhow::anyhow!(
            "{url}: name the loopback address itself (127.0.0.1 or [::1]), not {host:?}"
        )
    })?;
    let loopback = match ip {
        IpAddr::V4(v4) => v4.octets()[0] == 127,
        IpAddr::V6(v6) => v6.is_loopback(),
    };
    if !loopback {
        bail!("{url}: refusing a target outside 127.0.0.0/8 and ::1");
    }
    let port = url
        .port_or_known_default()
        .with_context(|| format!("{url}: no port"))?;
    Ok(SocketAddr::new(ip, port))
}

/// Source addresses handed out in turn to client sockets bound for an IPv4 target.
#[derive(Debug, Default)]
pub struct Sources {
    addresses: Vec<IpAddr>,
    next: AtomicUsize,
}

impl Sources {
    /// `count` addresses from 127.0.0.2 on; none leaves the choice to the kernel.
    pub fn new(count: u8) -> Self {
        let addresses = (0..count.min(250))
            .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i)))
            .collect();
        Self {
            addresses,
            next: AtomicUsize::new(0),
        }
    }

    pub fn pick(&self, target: &SocketAddr) -> Option<IpAddr> {
        if !target.is_ipv4() || self.addresses.is_empty() {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Some(self.addresses[n % self.addresses.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::loopback;

    #[test]
    fn only_loopback_literals_pass() {
        assert!(loopback("http://127.0.0.1:3000").is_ok());
        assert!(loopback("ws://127.1.2.3:80/abc").is_ok());
        assert!(loopback("http://[::1]:3000").is_ok());
        assert!(loopback("http://localhost:3000").is_err());
        assert!(loopback("http://10.0.0.1:3000").is_err());
        assert!(loopback("http://192.168.1.1").is_err());
        assert!(loopback("http://[::2]:3000").is_err());
        assert!(loopback("ftp://127.0.0.1").is_err());
    }
}
