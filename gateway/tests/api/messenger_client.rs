//! A client of the messenger dialect for tests: accounts over `/api`, the socket at `/` with
//! its bearer token, requests, and the document's replies, pushes and errors.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::{Socket, Stack};

/// A user registered and logged in through `/api`.
pub struct Account {
    pub id: i64,
    pub token: String,
    pub email: String,
}

/// One gateway replica's `/api`.
pub struct Api<'a> {
    pub stack: &'a Stack,
    pub replica: usize,
}

impl<'a> Api<'a> {
    pub fn new(stack: &'a Stack, replica: usize) -> Self {
        Self { stack, replica }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.gateways[self.replica])
    }

    /// Sends `body` (if any) with the token (if any) and answers the status and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.stack.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("HTTP request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Registers `first_name` as `<first_name>@mail.com` with the password "secret" and logs in.
    pub async fn account(&self, first_name: &str) -> Account {
        let email = format!("{}@mail.com", first_name.to_lowercase());
        let body = json!({"email": email, "password": "secret", "firstName": first_name});
        let (status, user) = self
            .call(
                reqwest::Method::POST,
                "/api/auth/register",
                None,
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "register {first_name}: {user}");
        let token = self.login(&email, "secret").await;
        Account {
            id: user["id"].as_i64().expect("an integer id"),
            token,
            email,
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = json!({"email": email, "password": password});
        let (status, login) = self
            .call(reqwest::Method::POST, "/api/auth/login", None, Some(body))
            .await;
        assert_eq!(status, 200, "login {email}: {login}");
        login["token"].as_str().expect("a token").to_owned()
    }

    /// The WebSocket URL at `/` of this replica.
    pub fn socket_url(&self) -> String {
        self.url("/").replacen("http://", "ws://", 1)
    }

    /// Connects to `/` with `Authorization: Bearer <token>`.
    pub async fn socket(&self, token: &str) -> Socket {
        let mut request = self
            .socket_url()
            .into_client_request()
            .expect("a WebSocket request");
        let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("a header value");
        request.headers_mut().insert("authorization", value);
        Socket::connect_request(request).await
    }
}

/// Sends a request and answers the next frame on the socket.
/// Sends a request and answers its reply. Pushes of other kinds met on the way are skipped: a
/// message sent just before this socket opened may still arrive on it, live.
pub async fn request(socket: &mut Socket, kind: &str, params: Value) -> Value {
    socket.send(json!({"type": kind, "params": params})).await;
    loop {
        let frame = socket.next().await;
        let push = !frame["params"]["senderName"].is_null();
        if !(push && frame["type"] != kind) {
            return frame;
        }
    }
}

/// A reply of `kind` in the document's envelope; answers its `params.data`.
#[track_caller]
pub fn assert_reply(reply: &Value, kind: &str) -> Value {
    assert_eq!(reply["type"], kind, "{reply}");
    assert_eq!(reply["success"], true, "{reply}");
    let params = reply["params"].as_object().expect("params");
    assert!(params.contains_key("data"), "{reply}");
    assert_eq!(
        (&reply["params"]["message"], &reply["params"]["senderName"]),
        (&Value::Null, &Value::Null),
        "{reply}"
    );
    reply["params"]["data"].clone()
}

/// An error in the document's shape, `{"error":true,"type":…,"message":…}`.
#[track_caller]
pub fn assert_failure(reply: &Value, kind: Value, message: &str) {
    assert_eq!(reply["error"], true, "{reply}");
    assert_eq!(reply["type"], kind, "{reply}");
    assert_eq!(reply["message"], message, "{reply}");
}

/// A time as the document shows it: `2023-07-28T13:20:09.896Z`.
#[track_caller]
pub fn assert_time(value: &Value) {
    let text = value.as_str().unwrap_or_default();
    let parsed = chrono::DateTime::parse_from_rfc3339(text);
    assert!(
        parsed.is_ok() && text.len() == 24 && text.ends_with('Z'),
        "a time with milliseconds and Z: {value}"
    );
}
