//! The REST calls a scenario's setup makes: register and log in users, open sessions (whose
//! `messaging_url` must be loopback too), create groups.

use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::Url;
use serde_json::{Value, json};

use crate::target;

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct Account {
    pub user_id: String,
    pub token: String,
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
}

const PASSWORD: &str = "bench-password";
/// Attempts after a 503 before setup gives up.
const RETRIES: u32 = 3;

impl Api {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build()?;
        Ok(Self { http })
    }

    async fn post(
        &self,
        gateway: &Url,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> anyhow::Result<Value> {
        let url = gateway.join(path)?;
        let mut attempt = 0;
        loop {
            let mut request = self.http.post(url.clone()).json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request
                .send()
                .await
                .with_context(|| format!("POST {url}"))?;
            let status = response.status();
            let text = response.text().await?;
            // A gateway that cannot reach a service for a moment says 503: try again, a few
            // times, and say so.
            if status == reqwest::StatusCode::SERVICE_UNAVAILABLE && attempt < RETRIES {
                attempt += 1;
                eprintln!("chat-bench: POST {url}: 503, retry {attempt} of {RETRIES}: {text}");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                continue;
            }
            if !status.is_success() {
                bail!("POST {url}: {status}: {text}");
            }
            return serde_json::from_str(&text)
                .with_context(|| format!("POST {url}: not JSON: {text}"));
        }
    }

    /// Registers `username` and logs in.
    pub async fn account(&self, gateway: &Url, username: &str) -> anyhow::Result<Account> {
        let created = self
            .post(
                gateway,
                "/users",
                None,
                json!({"username": username, "email": format!("{username}@bench.invalid"), "password": PASSWORD}),
            )
            .await?;
        let login = self
            .post(
                gateway,
                "/login",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await?;
        Ok(Account {
            user_id: field(&created, "id")?,
            token: field(&login, "token")?,
        })
    }

    /// Opens a session (a device) for the account and returns its `messaging_url`.
    pub async fn session(
        &self,
        gateway: &Url,
        account: &Account,
        device: usize,
    ) -> anyhow::Result<Url> {
        let session = self
            .post(
                gateway,
                "/sessions",
                Some(&account.token),
                json!({"device_id": format!("bench-{device}"), "platform": "bench", "model": "chat-bench", "build": 1, "name": "bench"}),
            )
            .await?;
        target::loopback(&field(&session, "messaging_url")?)
    }

    /// Creates a group owned by `owner` with `members` and returns its id.
    pub async fn group(
        &self,
        gateway: &Url,
        owner: &Account,
        name: &str,
        members: &[String],
    ) -> anyhow::Result<String> {
        let group = self
            .post(
                gateway,
                "/groups",
                Some(&owner.token),
                json!({"name": name, "user_ids": members}),
            )
            .await?;
        field(&group, "id")
    }
}

fn field(value: &Value, name: &str) -> anyhow::Result<String> {
    value[name]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no {name:?} in {value}"))
}
