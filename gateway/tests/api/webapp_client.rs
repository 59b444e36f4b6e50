//! A client of the web-app dialect for tests: `/http` calls with an `authentication` header,
//! the socket at `/socket` bound by a `{"token"}` frame, and waiting for its frames.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Socket, Stack};
use crate::messenger_client::Api;

/// A user logged in through `/http/login`.
pub struct WebUser {
    pub id: i64,
    pub token: String,
    pub email: String,
}

/// One gateway replica's `/http`.
pub struct Web<'a> {
    pub stack: &'a Stack,
    pub replica: usize,
}

impl<'a> Web<'a> {
    pub fn new(stack: &'a Stack, replica: usize) -> Self {
        Self { stack, replica }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.gateways[self.replica])
    }

    /// Calls `/http{path}` with the token as the document's `authentication` header and `data`
    /// as a JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        data: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .stack
            .http
            .request(method, self.url(&format!("/http{path}")));
        if let Some(token) = token {
            request = request.header("authentication", token);
        }
        if let Some(data) = data {
            request = request.json(&data);
        }
        let response = request.send().await.expect("HTTP request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    /// A user registered (through the messenger's `/api`: users of every dialect log in here)
    /// and logged in through `/http/login`.
    pub async fn user(&self, first_name: &str) -> WebUser {
        let email = format!("{}@web.example", first_name.to_lowercase());
        let body = json!({"email": email, "password": "secret", "firstName": first_name,
            "lastName": "Tester"});
        let (status, created) = Api::new(self.stack, self.replica)
            .call(
                reqwest::Method::POST,
                "/api/auth/register",
                None,
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "register {first_name}: {created}");
        let token = self.login(&email, "secret").await;
        WebUser {
            id: created["id"].as_i64().expect("an integer id"),
            token,
            email,
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = json!({"email": email, "password": password});
        let (status, login) = self
            .call(reqwest::Method::POST, "/login", None, Some(body))
            .await;
        assert_eq!(status, 200, "login {email}: {login}");
        login["token"].as_str().expect("a token").to_owned()
    }

    /// Opens `/socket` and binds it with `{"token"}`; answers it once the server says it is
    /// bound (and so online: events reach it).
    pub async fn socket(&self, user: &WebUser) -> Socket {
        let url = self.url("/socket").replacen("http://", "ws://", 1);
        let mut socket = Socket::connect(&url).await;
        socket.send(json!({"token": user.token})).await;
        let init = until(&mut socket, |f| f["type"] == "init").await;
        assert_eq!(init["user_id"], user.id, "{init}");
        socket
    }
}

/// The first frame matching `wanted`, skipping others (announcements arrive in any order
/// relative to other traffic).
pub async fn until(socket: &mut Socket, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + crate::helpers::TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame = socket
            .next_within(left.max(Duration::from_millis(1)))
            .await
            .expect("timed out waiting for a frame");
        if wanted(&frame) {
            return frame;
        }
    }
}

/// Waits for `user_activity` of `user` with `login`.
pub async fn activity(socket: &mut Socket, user: i64, login: bool) -> Value {
    until(socket, |f| {
        f["type"] == "user_activity" && f["user_id"] == user && f["login"] == login
    })
    .await
}

/// A time as this dialect shows it: `2023-07-28T13:20:09.896Z`.
#[track_caller]
pub fn assert_time(value: &Value) {
    crate::messenger_client::assert_time(value);
}
