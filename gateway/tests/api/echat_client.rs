//! A client of the /v1 (e_chat_server) dialect for tests: requests that carry a `session_id`,
//! error assertions in the document's shape, and room sockets.

use serde_json::Value;
use tokio_tungstenite::tungstenite;

use crate::helpers::{Socket, Stack};

/// One gateway replica, spoken to in the /v1 dialect.
pub struct V1<'a> {
    pub stack: &'a Stack,
    pub replica: usize,
}

/// A response: status, JSON body, and the `Set-Cookie` header if any.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub cookie: Option<String>,
}

impl<'a> V1<'a> {
    pub fn new(stack: &'a Stack, replica: usize) -> Self {
        Self { stack, replica }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.gateways[self.replica])
    }

    /// A room's socket URL, the session in the query (as a browser would send it).
    pub fn room_url(&self, room: i64, session: &str) -> String {
        let base = self.url("").replace("http://", "ws://");
        format!("{base}/v1/rooms/{room}/chat?session_id={session}")
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("HTTP request");
        let status = response.status().as_u16();
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            body,
            cookie,
        }
    }

    fn with_session(
        request: reqwest::RequestBuilder,
        session: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match session {
            Some(session) => request.header("authorization", format!("Bearer {session}")),
            None => request,
        }
    }

    pub async fn post(&self, path: &str, session: Option<&str>, body: &str) -> (u16, Value) {
        let request = self.stack.http.post(self.url(path)).body(body.to_owned());
        let reply = self.send(Self::with_session(request, session)).await;
        (reply.status, reply.body)
    }

    pub async fn get(&self, path: &str, session: Option<&str>) -> (u16, Value) {
        let request = self.stack.http.get(self.url(path));
        let reply = self.send(Self::with_session(request, session)).await;
        (reply.status, reply.body)
    }

    /// Registers `login` (password "password") and returns its session_id.
    pub async fn register(&self, login: &str) -> String {
        let body = format!(r#"{{"login":"{login}","password":"password"}}"#);
        let (status, reply) = self.post("/v1/register", None, &body).await;
        assert_eq!(status, 200, "register {login}: {reply}");
        session_id(&reply)
    }

    pub async fn login(&self, login: &str, password: &str) -> String {
        let body = format!(r#"{{"login":"{login}","password":"{password}"}}"#);
        let (status, reply) = self.post("/v1/login", None, &body).await;
        assert_eq!(status, 200, "login {login}: {reply}");
        session_id(&reply)
    }

    /// The caller's `{"id","login"}`.
    pub async fn info(&self, session: &str) -> Value {
        let (status, info) = self.get("/v1/info", Some(session)).await;
        assert_eq!(status, 200, "{info}");
        info
    }
}

/// The body's `session_id`, which must be a non-empty string.
pub fn session_id(body: &Value) -> String {
    let id = body["session_id"].as_str().unwrap_or_default();
    assert!(!id.is_empty(), "a session_id in {body}");
    id.to_owned()
}

/// A response in the document's error shape, `{"error":{"code":…}}` (and a message).
#[track_caller]
pub fn assert_error(reply: &(u16, Value), status: u16, code: &str) {
    assert_eq!(reply.0, status, "status of {}", reply.1);
    assert_eq!(reply.1["error"]["code"], code, "{}", reply.1);
    let error = reply.1["error"].as_object().expect("an error object");
    assert!(
        error.keys().all(|k| k == "code" || k == "message"),
        "{}",
        reply.1
    );
    assert_eq!(reply.1.as_object().map(|o| o.len()), Some(1), "{}", reply.1);
}

/// The status and error body a refused WebSocket handshake answers with.
pub async fn refused_handshake(
    request: impl tungstenite::client::IntoClientRequest + Unpin,
) -> (u16, Value) {
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            (response.status().as_u16(), body)
        }
        Err(error) => panic!("expected an HTTP refusal, got {error}"),
        Ok(_) => panic!("expected the handshake to be refused"),
    }
}

/// Connects to a room's socket.
pub async fn room_socket(url: &str) -> Socket {
    Socket::connect(url).await
}

/// A created_at as the document shows it: `2015-08-05T22:18:45`.
#[track_caller]
pub fn assert_time(value: &Value) {
    let text = value.as_str().unwrap_or_default();
    let parsed = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S");
    assert!(parsed.is_ok() && text.len() == 19, "created_at {value}");
}
