//! Binding a binary's listening socket with a backlog fit for bursts of connects: tokio's
//! default of 1,024 overflows when thousands of clients reconnect at once, and the kernel then
//! drops SYNs that clients retry only a second later.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::{TcpListener, TcpSocket};

/// Pending connections the kernel may queue (it caps this at `net.core.somaxconn`).
const BACKLOG: u32 = 8192;

pub fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }?;
    socket.set_reuseaddr(true)?;
    socket
        .bind(address)
        .with_context(|| format!("cannot listen on {address}"))?;
    Ok(socket.listen(BACKLOG)?)
}
