//! Every dialect's request decoders fed what a fuzzer would send: arbitrary bytes, arbitrary JSON,
//! and objects with the fields a route expects holding values of any type — strings full of
//! control characters (NUL included), huge and negative numbers, nesting. Cases come from
//! a generator with a fixed seed (`DECODER_CASES` sets how many per route; 24 by default).
//!
//! REST: every operation of the OpenAPI document that takes a body, authenticated with the
//! credentials its security scheme names. No answer is a server error, and every refusal is in
//! the dialect's own error shape. Sockets: the native, messenger, echat and web-app sockets get
//! the same kinds of frames, text and binary; every frame they answer is JSON in the dialect's
//! shape (an error is never `internal`), and each socket still answers a ping afterwards.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{Backend, Stack, TIMEOUT, spawn_stack};

backend_tests!(
    rest_bodies_of_every_dialect_are_refused_in_its_shape,
    socket_frames_of_every_dialect_are_answered_in_its_shape
);

/// Field names the dialects read, so that generated objects reach past "missing field".
const FIELDS: &[&str] = &[
    "username",
    "email",
    "password",
    "login",
    "name",
    "user_ids",
    "user_id",
    "token",
    "method",
    "params",
    "type",
    "chat_type",
    "message",
    "other_user_id",
    "chat_group_id",
    "chat_room_id",
    "data",
    "id",
    "group_id",
    "client_message_id",
    "limit",
    "before",
    "timestamp",
    "is_enter",
    "first_name",
    "last_name",
    "text",
    "chatID",
    "GUIDList",
    "refresh_token",
    "device_id",
    "platform",
    "model",
    "build",
    "room_id",
    "seq",
    "position",
    "after_seq",
    "key",
    "signature",
];

fn cases() -> usize {
    std::env::var("DECODER_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24)
}

/// Characters that break naive decoders: controls (NUL included), quotes, escapes, direction
/// overrides, byte-order marks, astral-plane characters.
const NASTY: &[char] = &[
    '\0', '\u{1}', '\u{7}', '\u{1b}', '\u{7f}', '\n', '\r', '\t', '"', '\\', '/', '\u{202e}',
    '\u{feff}', '\u{fffd}', '💬',
];

/// Numbers at the edges of what the dialects parse.
const EDGE_NUMBERS: &[i64] = &[0, -1, 1, i64::MAX, i64::MIN];

/// Generates inputs from a generator seeded the same way every run, so that a failing case
/// comes back on the next run.
struct Cases(StdRng);

impl Cases {
    fn new() -> Self {
        Cases(StdRng::seed_from_u64(0x0dec_0de5))
    }

    /// A string of any characters, control characters and quotes well represented.
    fn string(&mut self) -> String {
        let len = self.0.random_range(0..40);
        (0..len)
            .map(|_| {
                if self.0.random_ratio(1, 4) {
                    *NASTY.choose(&mut self.0).expect("nasty characters")
                } else {
                    self.0.random::<char>()
                }
            })
            .collect()
    }

    /// One of the field names the dialects read.
    fn known_field(&mut self) -> String {
        (*FIELDS.choose(&mut self.0).expect("fields")).to_owned()
    }

    fn field_name(&mut self) -> String {
        if self.0.random_ratio(3, 4) {
            self.known_field()
        } else {
            self.string()
        }
    }

    /// Any JSON value, nested up to `depth` levels.
    fn json(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 6 } else { 8 };
        match self.0.random_range(0..kinds) {
            0 => Value::Null,
            1 => Value::Bool(self.0.random()),
            2 => Value::from(self.0.random::<i64>()),
            3 => Value::from(*EDGE_NUMBERS.choose(&mut self.0).expect("numbers")),
            4 => {
                // Any finite double, from tiny to huge, of either sign.
                let bits = self.0.random::<u64>();
                let float = f64::from_bits(bits);
                Value::from(if float.is_finite() { float } else { -0.5 })
            }
            5 => Value::String(self.string()),
            6 => {
                let len = self.0.random_range(0..6);
                Value::Array((0..len).map(|_| self.json(depth - 1)).collect())
            }
            _ => {
                let len = self.0.random_range(0..6);
                let fields = (0..len).map(|_| (self.field_name(), self.json(depth - 1)));
                Value::Object(fields.collect())
            }
        }
    }

    /// An object with some of the given fields (or the dialects' field names, when the route
    /// names none) holding any JSON.
    fn shaped(&mut self, fields: &[String]) -> Value {
        let len = self.0.random_range(0..8);
        let mut object = Map::new();
        for _ in 0..len {
            let name = match fields.choose(&mut self.0) {
                Some(field) => field.clone(),
                None => self.known_field(),
            };
            object.insert(name, self.json(3));
        }
        Value::Object(object)
    }

    /// One request body or frame: raw bytes (1 in 8), a raw string (1 in 8), any JSON (2 in 8),
    /// an object shaped like the route's body (4 in 8).
    fn input(&mut self, fields: &[String]) -> Input {
        match self.0.random_range(0..8) {
            0 => {
                let len = self.0.random_range(0..200);
                Input::Bytes((0..len).map(|_| self.0.random()).collect())
            }
            1 => Input::Bytes(self.string().into_bytes()),
            2 | 3 => Input::Json(self.json(3)),
            _ => Input::Json(self.shaped(fields)),
        }
    }

    /// `count` inputs for a route whose body has `fields`.
    fn inputs(&mut self, fields: &[String], count: usize) -> Vec<Input> {
        (0..count).map(|_| self.input(fields)).collect()
    }
}

/// One generated request body or frame.
#[derive(Debug, Clone)]
enum Input {
    Bytes(Vec<u8>),
    Json(Value),
}

impl Input {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Input::Bytes(bytes) => bytes.clone(),
            Input::Json(value) => value.to_string().into_bytes(),
        }
    }
}

/// The error shapes: native, echat and the web app `{"error":{"code","message"}}`; the messenger
/// `{"error":true,"code","message"}`; the platform API `{"error":"…"}`.
fn is_error_shape(tag: &str, body: &Value) -> bool {
    match tag {
        "messenger" => {
            body["error"] == Value::Bool(true)
                && body["code"].is_string()
                && body["message"].is_string()
        }
        "platform" => body["error"].is_string(),
        _ => body["error"]["code"].is_string() && body["error"]["message"].is_string(),
    }
}

/// The properties an operation's request body schema names (following `$ref`s).
fn body_fields(document: &Value, operation: &Value) -> Vec<String> {
    let Some(content) = operation["requestBody"]["content"].as_object() else {
        return Vec::new();
    };
    let mut schema = content
        .values()
        .next()
        .map(|c| c["schema"].clone())
        .unwrap_or(Value::Null);
    for _ in 0..4 {
        let Some(reference) = schema["$ref"].as_str() else {
            break;
        };
        let name = reference.trim_start_matches("#/components/schemas/");
        schema = document["components"]["schemas"][name].clone();
    }
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The caller's credentials for each security scheme of the document.
struct Credentials {
    bearer: String,
    session_id: String,
    platform_key: String,
    group_uuid: String,
    group_number: i64,
}

impl Credentials {
    fn header(&self, operation: &Value) -> Option<(&'static str, String)> {
        let scheme = operation["security"]
            .as_array()?
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|s| s.keys())
            .next()?
            .clone();
        match scheme.as_str() {
            "bearer" => Some(("authorization", format!("Bearer {}", self.bearer))),
            "session_id" => Some(("authorization", self.session_id.clone())),
            "authentication" => Some(("authentication", self.bearer.clone())),
            "platform_key" => Some(("authorization", format!("Bearer {}", self.platform_key))),
            _ => None,
        }
    }

    /// `path` with its parameters filled with ids that exist.
    fn fill(&self, tag: &str, path: &str) -> String {
        let mut filled = String::new();
        let mut rest = path;
        while let Some(open) = rest.find('{') {
            filled.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            let name = &rest[open + 1..close];
            let value = match (tag, name) {
                ("native", _) => self.group_uuid.clone(),
                (_, "chatID") => "fuzzed-chat".to_owned(),
                (_, "keyID") => "fuzzed-key".to_owned(),
                (_, "token") => "not-a-registration-token".to_owned(),
                _ => self.group_number.to_string(),
            };
            filled.push_str(&value);
            rest = &rest[(close + 1).min(rest.len())..];
        }
        filled.push_str(rest);
        filled
    }
}

async fn credentials(stack: &Stack, name: &str) -> Credentials {
    let user = stack.user(0, name).await;
    let group_uuid = stack.group(0, &user, "fuzzing", &[]).await;
    let (_, group) = stack
        .get(0, &format!("/groups/{group_uuid}"), &user.token)
        .await;
    let (status, session) = stack
        .post(
            0,
            "/v1/login",
            None,
            json!({"login": name, "password": "0000"}),
        )
        .await;
    assert_eq!(status, 200, "echat login: {session}");
    Credentials {
        bearer: user.token,
        session_id: session["session_id"]
            .as_str()
            .expect("session_id")
            .to_owned(),
        platform_key: stack.auth_store.create_platform("fuzzing").await,
        group_uuid,
        group_number: group["number"].as_i64().expect("group number"),
    }
}

async fn rest_bodies_of_every_dialect_are_refused_in_its_shape(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let credentials = credentials(&stack, "fuzzer").await;
    let document: Value = stack
        .http
        .get(format!("{}/api/openapi.json", stack.gateways[0]))
        .send()
        .await
        .expect("the document")
        .json()
        .await
        .expect("JSON");
    let mut generator = Cases::new();
    let mut operations = 0;
    let mut requests = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if operation["requestBody"].is_null() || path.contains("logout") {
                continue;
            }
            let tag = operation["tags"][0].as_str().unwrap_or("native").to_owned();
            let url = format!("{}{}", stack.gateways[0], credentials.fill(&tag, path));
            let method: reqwest::Method = method.to_uppercase().parse().expect("method");
            let auth = credentials.header(operation);
            operations += 1;
            let fields = body_fields(&document, operation);
            for case in generator.inputs(&fields, cases()) {
                let mut request = stack
                    .http
                    .request(method.clone(), &url)
                    .header("content-type", "application/json")
                    .body(case.bytes());
                if let Some((name, value)) = &auth {
                    request = request.header(*name, value);
                }
                let response = request.send().await.expect("an answer");
                let status = response.status().as_u16();
                let text = response.text().await.expect("a body");
                requests += 1;
                assert!(
                    status < 500,
                    "{method} {path} answered {status} {text} to {case:?}"
                );
                if status >= 400 {
                    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    assert!(
                        is_error_shape(&tag, &body),
                        "{method} {path} ({tag}) answered {status} in another shape: {text} to {case:?}"
                    );
                }
            }
        }
    }
    assert!(operations >= 20, "only {operations} operations take a body");
    println!("{requests} requests to {operations} operations");
    // The server still serves.
    let (status, _) = stack.get(0, "/groups", &credentials.bearer).await;
    assert_eq!(status, 200);
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Is `frame` in `dialect`'s shape, and not an internal error?
fn frame_in_shape(dialect: &str, frame: &Value) -> Result<(), String> {
    let fine = match dialect {
        "native" => {
            frame["type"].is_u64()
                && (frame["type"] != 99
                    || (frame["body"]["code"].is_string() && frame["body"]["code"] != "internal"))
        }
        "messenger" => {
            frame.is_object()
                && (frame["error"] != true
                    || (frame["code"].is_string() && frame["code"] != "internal"))
        }
        "echat" => {
            frame.is_object()
                && (frame["error"].is_null()
                    || (frame["error"]["code"].is_string() && frame["error"]["code"] != "internal"))
        }
        _ => {
            frame["type"].is_string()
                && (frame["type"] != "error"
                    || (frame["code"].is_string() && frame["code"] != "internal"))
        }
    };
    if fine {
        Ok(())
    } else {
        Err(format!("{dialect} frame out of shape: {frame}"))
    }
}

/// Sends `input` (as a text frame when it is UTF-8, else binary), then a ping, and checks every
/// text frame that comes before the pong.
async fn poke(dialect: &str, socket: &mut Stream, input: &Input) {
    let bytes = input.bytes();
    let frame = match String::from_utf8(bytes.clone()) {
        Ok(text) => Message::text(text),
        Err(_) => Message::binary(bytes),
    };
    socket.send(frame).await.expect("send a frame");
    socket
        .send(Message::Ping(b"still there?".to_vec().into()))
        .await
        .expect("send a ping");
    loop {
        let next = tokio::time::timeout(TIMEOUT, socket.next())
            .await
            .unwrap_or_else(|_| panic!("{dialect}: no pong after {input:?}"));
        match next {
            Some(Ok(Message::Pong(_))) => return,
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(text.as_str())
                    .unwrap_or_else(|_| panic!("{dialect}: not JSON: {text} after {input:?}"));
                if let Err(problem) = frame_in_shape(dialect, &value) {
                    panic!("{problem} after {input:?}");
                }
            }
            Some(Ok(Message::Close(close))) => {
                panic!("{dialect}: closed {close:?} after {input:?}")
            }
            Some(Ok(_)) => {}
            other => panic!("{dialect}: socket ended ({other:?}) after {input:?}"),
        }
    }
}

async fn socket_frames_of_every_dialect_are_answered_in_its_shape(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let credentials = credentials(&stack, "framer").await;
    let base = stack.gateways[0].replace("http://", "ws://");
    let user = stack.user(0, "framer2").await;

    let native = user
        .messaging_url
        .clone()
        .into_client_request()
        .expect("URL");
    let mut messenger = format!("{base}/").into_client_request().expect("URL");
    messenger.headers_mut().insert(
        "authorization",
        format!("Bearer {}", credentials.bearer)
            .parse()
            .expect("header"),
    );
    let echat = format!(
        "{base}/v1/rooms/{}/chat?session_id={}",
        credentials.group_number, credentials.session_id
    )
    .into_client_request()
    .expect("URL");
    let webapp = format!("{base}/socket?token={}", credentials.bearer)
        .into_client_request()
        .expect("URL");

    let mut generator = Cases::new();
    for (dialect, request, fields) in [
        (
            "native",
            native,
            vec![
                "method",
                "params",
                "id",
                "group_id",
                "data",
                "client_message_id",
                "seq",
                "position",
                "limit",
            ],
        ),
        (
            "messenger",
            messenger,
            vec![
                "type", "params", "limit", "page", "id", "message", "group_id", "user_id",
            ],
        ),
        ("echat", echat, vec!["message", "text", "type"]),
        (
            "webapp",
            webapp,
            vec![
                "token",
                "chat_type",
                "message",
                "other_user_id",
                "chat_group_id",
            ],
        ),
    ] {
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .unwrap_or_else(|e| panic!("{dialect} socket: {e}"));
        let fields: Vec<String> = fields.into_iter().map(str::to_owned).collect();
        let mut inputs = generator.inputs(&fields, cases() * 4);
        if dialect == "webapp" {
            // Frames carry the token: some of them should get past it.
            for (n, input) in inputs.iter_mut().enumerate() {
                if let (Input::Json(Value::Object(frame)), true) = (input, n % 2 == 0) {
                    frame.insert("token".into(), Value::String(credentials.bearer.clone()));
                }
            }
        }
        for input in &inputs {
            poke(dialect, &mut socket, input).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
    }
}
