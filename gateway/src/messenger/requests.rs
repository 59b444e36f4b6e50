//! One request frame `{"type":…,"params":{…}}` in, one reply frame out: its type picks the
//! handler, its params are read as that handler's, and whatever fails answers in the
//! document's error shape. Ids and paging numbers may come as numbers or numeric strings.

use axum::extract::ws::Utf8Bytes;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::error::Failure;
use super::{reads, render, writes};
use crate::hub::Connection;
use crate::state::AppState;

/// Page size when a request names none, and the largest one.
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// What a successful request answers: `params.data`, and fields beside it.
#[derive(Default)]
pub struct Reply {
    pub data: Value,
    pub extra: Map<String, Value>,
}

impl Reply {
    pub fn data(data: Value) -> Self {
        Self {
            data,
            extra: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }
}

pub type Outcome = Result<Reply, Failure>;

/// An integer given as a JSON number or as a string holding one.
#[derive(Debug, Clone, Copy)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(number) => Ok(Int(number)),
            Raw::Text(text) => text
                .trim()
                .parse()
                .map(Int)
                .map_err(|_| D::Error::custom(format!("{text:?} is not an integer"))),
        }
    }
}

/// `limit` and `page` (from 1) of a paged request.
#[derive(Deserialize)]
pub struct Paging {
    limit: Option<Int>,
    page: Option<Int>,
}

impl Paging {
    /// The page size and how many items come before the page; `None` when the page lies
    /// beyond anything that can exist.
    pub fn window(&self) -> Result<(i64, i64), Failure> {
        let limit = self.limit.map_or(DEFAULT_LIMIT, |Int(limit)| limit);
        let page = self.page.map_or(1, |Int(page)| page);
        if limit < 1 || page < 1 {
            let message = "limit and page must be positive integers";
            return Err(Failure::invalid_params(message));
        }
        let limit = limit.min(MAX_LIMIT);
        Ok((limit, (page - 1).saturating_mul(limit)))
    }
}

/// The request's params as `T`.
pub fn params<T: DeserializeOwned>(params: Value) -> Result<T, Failure> {
    serde_json::from_value(params).map_err(Failure::invalid_params)
}

/// Answers one text frame of `connection`.
pub async fn handle(state: &AppState, connection: &Connection, text: &str) -> Utf8Bytes {
    let request: Value = match serde_json::from_str(text) {
        Ok(request @ Value::Object(_)) => request,
        Ok(_) => return render::error(None, "invalid_request", "A request is a JSON object"),
        Err(error) => {
            return render::error(None, "invalid_json", &format!("Invalid JSON: {error}"));
        }
    };
    let Some(kind) = request.get("type").and_then(Value::as_str) else {
        return render::error(None, "invalid_request", "A request needs a string type");
    };
    let params = match request.get("params") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(params) => params.clone(),
    };
    let outcome = match kind {
        "listLastMessage" => reads::list_last_messages(state, connection, params).await,
        "getlatestMessageDialog" => reads::dialog_messages(state, connection, params).await,
        "getlatestMessageGroup" => reads::group_messages(state, connection, params).await,
        "newGroup" => writes::new_group(state, connection, params).await,
        "addUserInGroup" => writes::add_user(state, connection, params).await,
        "leaveGroup" => writes::leave_group(state, connection, params).await,
        "messageInGroup" => writes::message_in_group(state, connection, params).await,
        "privateMessage" => writes::private_message(state, connection, params).await,
        _ => Err(Failure::new(
            "unknown_type",
            format!("Unknown request type: {kind}"),
        )),
    };
    match outcome {
        Ok(reply) => render::reply(kind, reply.data, reply.extra),
        Err(failure) => render::error(Some(kind), &failure.code, &failure.message),
    }
}
