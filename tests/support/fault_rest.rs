//! The fault suite's REST calls: accounts (register, log in, open a session), groups, and a
//! group's whole stored history.
#![allow(dead_code)]

use serde_json::{Value, json};

use super::fault_record::Stored;

#[derive(Clone, Debug)]
pub struct Account {
    pub name: String,
    pub id: String,
    pub token: String,
    pub url: String,
}

async fn rest(request: reqwest::RequestBuilder, what: &str) -> Result<Value, String> {
    let response = request.send().await.map_err(|e| format!("{what}: {e}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!("{what}: {status} {body}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("{what}: {e}: {body}"))
}

fn post(gateway: &str, path: &str, token: Option<&str>, body: Value) -> reqwest::RequestBuilder {
    let request = reqwest::Client::new()
        .post(format!("http://{gateway}{path}"))
        .json(&body);
    match token {
        Some(token) => request.header("authorization", format!("bearer {token}")),
        None => request,
    }
}

/// Registers `name`, logs in and opens a session.
pub async fn account(gateway: &str, name: &str) -> Account {
    let body =
        json!({"username": name, "email": format!("{name}@example.com"), "password": "0000"});
    let created = rest(post(gateway, "/users", None, body), "POST /users")
        .await
        .unwrap();
    let login = json!({"username": name, "password": "0000"});
    let login = rest(post(gateway, "/login", None, login), "POST /login")
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let device =
        json!({"device_id": name, "platform": "web", "model": "chrome", "build": 1, "name": "pc"});
    let session = rest(
        post(gateway, "/sessions", Some(&token), device),
        "POST /sessions",
    )
    .await
    .unwrap();
    Account {
        name: name.to_owned(),
        id: created["id"].as_str().unwrap().to_owned(),
        token,
        url: session["messaging_url"].as_str().unwrap().to_owned(),
    }
}

/// Creates every account at once, a few at a time (passwords are hashed slowly on purpose).
pub async fn accounts(gateway: &str, names: Vec<String>) -> Vec<Account> {
    let mut out = Vec::new();
    for chunk in names.chunks(8) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|n| {
                tokio::spawn({
                    let (g, n) = (gateway.to_owned(), n.clone());
                    async move { account(&g, &n).await }
                })
            })
            .collect();
        for task in tasks {
            out.push(task.await.expect("an account"));
        }
    }
    out
}

/// `owner` creates a group with `members`; returns its id.
pub async fn group(gateway: &str, owner: &Account, name: &str, members: &[&Account]) -> String {
    let ids: Vec<&str> = members.iter().map(|a| a.id.as_str()).collect();
    let body = json!({"name": name, "user_ids": ids});
    let created = rest(
        post(gateway, "/groups", Some(&owner.token), body),
        "POST /groups",
    )
    .await
    .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// A group's whole history through `GET /groups/{id}/messages`, newest page first.
pub async fn history(
    gateway: &str,
    reader: &Account,
    group_id: &str,
) -> Result<Vec<Stored>, String> {
    let mut stored = Vec::new();
    let mut before = None;
    loop {
        let mut url = format!("http://{gateway}/groups/{group_id}/messages?limit=100");
        if let Some(seq) = before {
            url.push_str(&format!("&before_seq={seq}"));
        }
        let request = reqwest::Client::new()
            .get(url)
            .header("authorization", format!("bearer {}", reader.token));
        let page = rest(request, "GET /groups/{id}/messages").await?;
        let messages = page["messages"].as_array().cloned().unwrap_or_default();
        for m in &messages {
            stored.push(Stored {
                message_id: m["message_id"].as_str().unwrap_or_default().to_owned(),
                user_id: m["user_id"].as_str().unwrap_or_default().to_owned(),
                client_message_id: m["client_message_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                seq: m["seq"].as_i64().unwrap_or(-1),
            });
        }
        let lowest = messages.iter().filter_map(|m| m["seq"].as_i64()).min();
        match lowest {
            Some(seq) if page["has_more"] == true && seq > 1 => before = Some(seq),
            _ => return Ok(stored),
        }
    }
}
