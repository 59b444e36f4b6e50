//! Setting a scenario up through REST, in parallel batches: users, sessions, groups; then the
//! WebSockets, each ready (pong received) before the scenario starts.

use std::future::Future;
use std::time::Instant;

use futures_util::{StreamExt, TryStreamExt};
use reqwest::Url;

use crate::cli::Protocol;
use crate::env::Env;
use crate::rest::Account;
use crate::socket::{self, Ws};
use crate::socketio;
use crate::xmpp;

/// Runs `work` over `items`, `concurrency` at a time, keeping their order; the first error
/// ends it.
pub async fn parallel<T, R, F, Fut>(
    items: Vec<T>,
    concurrency: usize,
    work: F,
) -> anyhow::Result<Vec<R>>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = anyhow::Result<R>>,
{
    futures_util::stream::iter(items.into_iter().map(work))
        .buffered(concurrency.max(1))
        .try_collect()
        .await
}

fn progress(what: &str, count: usize, started: Instant) {
    eprintln!(
        "chat-bench: {count} {what} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Registers `count` users named after the run, the i-th through the i-th client's gateway.
pub async fn accounts(env: &Env, role: &str, count: usize) -> anyhow::Result<Vec<Account>> {
    let started = Instant::now();
    let accounts = parallel(
        (0..count).collect(),
        env.setup_concurrency,
        |i| async move {
            let name = format!("cb{}{role}{i}", env.run_id);
            env.api
                .account(&env.gateways[env.gateway_for(i)], &name)
                .await
        },
    )
    .await?;
    progress("users registered", count, started);
    Ok(accounts)
}

/// One session per `(account, gateway, device)`; returns their `messaging_url`s.
pub async fn sessions(
    env: &Env,
    wanted: Vec<(&Account, usize, usize)>,
) -> anyhow::Result<Vec<Url>> {
    let started = Instant::now();
    let count = wanted.len();
    let urls = parallel(
        wanted,
        env.setup_concurrency,
        |(account, gateway, device)| async move {
            env.api
                .session(&env.gateways[gateway], account, device)
                .await
        },
    )
    .await?;
    progress("sessions opened", count, started);
    Ok(urls)
}

/// What a group is made of: its owner, the gateway to create it through, and the others.
pub struct GroupSpec<'a> {
    pub owner: &'a Account,
    pub gateway: usize,
    pub members: Vec<String>,
}

pub async fn groups(env: &Env, specs: Vec<GroupSpec<'_>>) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let count = specs.len();
    let ids = parallel(
        specs.into_iter().enumerate().collect(),
        env.setup_concurrency,
        |(i, spec)| async move {
            let name = format!("bench-{}-{i}", env.run_id);
            env.api
                .group(
                    &env.gateways[spec.gateway],
                    spec.owner,
                    &name,
                    &spec.members,
                )
                .await
        },
    )
    .await?;
    progress("groups created", count, started);
    Ok(ids)
}

/// Opens a WebSocket to `url` from the next source address, ready for traffic in the run's
/// protocol.
pub async fn open(env: &Env, url: &Url) -> anyhow::Result<Ws> {
    let source = env.sources.pick(&crate::target::socket_address(url)?);
    match env.protocol {
        Protocol::Native => socket::open(url, source).await,
        Protocol::SocketIo => socketio::open(url, source).await,
        Protocol::Xmpp => xmpp::open(url, source).await,
    }
}

/// Socket.IO URLs: the `index`-th client in room `room_of(index)`, on the gateways in turn.
pub fn socketio_urls(
    env: &Env,
    count: usize,
    room_of: impl Fn(usize) -> String,
) -> anyhow::Result<Vec<Url>> {
    (0..count)
        .map(|i| socketio::url(&env.gateways[env.gateway_for(i)], &room_of(i)))
        .collect()
}

/// XMPP URLs: the `index`-th client, nick [`xmpp::nick`]`(index)`, in the room `room_of(index)`
/// if any, on the gateways in turn.
pub fn xmpp_urls(
    env: &Env,
    count: usize,
    room_of: impl Fn(usize) -> Option<String>,
) -> anyhow::Result<Vec<Url>> {
    (0..count)
        .map(|i| {
            let nick = xmpp::nick(i as u32);
            xmpp::url(
                &env.gateways[env.gateway_for(i)],
                room_of(i).as_deref(),
                &nick,
            )
        })
        .collect()
}

/// Opens a ready WebSocket to each URL, `concurrency` at a time, from the source addresses.
pub async fn connect_all(env: &Env, urls: &[Url], concurrency: usize) -> anyhow::Result<Vec<Ws>> {
    let started = Instant::now();
    let sockets = parallel(urls.iter().collect(), concurrency, |url| open(env, url)).await?;
    progress("sockets connected", urls.len(), started);
    Ok(sockets)
}
