//! What a request carries: the token (an `authentication` header — `{"header":
//! {"authentication": <token>}}` in the document — or `Authorization: Bearer`, or a
//! `header.authentication` beside `data` in a JSON body) and the `data` (query parameters, a
//! JSON body, or a body wrapped as `{"data": {...}}`; body fields win over query ones).
//! Booleans and integers may come as JSON values or as the strings a query carries.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Query, Request};
use axum::http::{HeaderMap, Uri};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::error::WebappError;
use crate::auth::{CurrentUser, verify};
use crate::state::AppState;

/// The header the document names.
pub const AUTHENTICATION: &str = "authentication";

/// A token in an `authentication` header (bare, or `Bearer <token>`), else `Authorization:
/// Bearer`.
pub fn header_token(headers: &HeaderMap) -> Option<String> {
    let bare = headers
        .get(AUTHENTICATION)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .map(|value| match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => value,
        })
        .filter(|token| !token.is_empty())
        .map(str::to_owned);
    bare.or_else(|| crate::auth::bearer_token(headers).map(str::to_owned))
}

/// Verifies a token: anything but a live session's is 401.
pub async fn caller(state: &AppState, token: &str) -> Result<CurrentUser, WebappError> {
    match verify(state, token).await {
        Ok(user) => Ok(user),
        Err(error) if error.status.is_server_error() => Err(error.into()),
        Err(_) => Err(WebappError::unauthorized()),
    }
}

/// The data of a request without a caller (login).
pub struct Data<T>(pub T);

/// The caller of an authenticated route and the request's data.
pub struct Call<T> {
    pub caller: CurrentUser,
    pub data: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Data<T> {
    type Rejection = WebappError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, WebappError> {
        let uri = request.uri().clone();
        let bytes = body(request, state).await?;
        let (data, _) = gather(&uri, &bytes)?;
        Ok(Data(read(data)?))
    }
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Call<T> {
    type Rejection = WebappError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, WebappError> {
        let uri = request.uri().clone();
        let header = header_token(request.headers());
        let bytes = body(request, state).await?;
        let (data, body_token) = gather(&uri, &bytes)?;
        let token = header
            .or(body_token)
            .ok_or_else(WebappError::unauthorized)?;
        let caller = caller(state, &token).await?;
        Ok(Call {
            caller,
            data: read(data)?,
        })
    }
}

async fn body(request: Request, state: &AppState) -> Result<Bytes, WebappError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            WebappError::new(rejection.status(), "invalid_body", rejection.body_text())
        })
}

/// The query's fields overlaid by the body's (its `data` when wrapped), and a token the body
/// carries as `header.authentication`.
fn gather(uri: &Uri, bytes: &[u8]) -> Result<(Map<String, Value>, Option<String>), WebappError> {
    let mut data: Map<String, Value> = Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|Query(query)| {
            query
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        })
        .unwrap_or_default();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((data, None));
    }
    let body: Value = serde_json::from_slice(bytes).map_err(|error| {
        WebappError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("malformed JSON: {error}"),
        )
    })?;
    let Value::Object(mut body) = body else {
        return Err(WebappError::invalid_data("the body must be a JSON object"));
    };
    let token = body
        .get("header")
        .and_then(|header| header.get(AUTHENTICATION))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let fields = match body.remove("data") {
        Some(Value::Object(inner)) => inner,
        Some(Value::Null) => Map::new(),
        Some(other) if body.contains_key("header") || body.is_empty() => {
            return Err(WebappError::invalid_data(format!(
                "data must be an object, not {other}"
            )));
        }
        Some(other) => {
            body.insert("data".to_owned(), other);
            body.remove("header");
            body
        }
        None => {
            body.remove("header");
            body
        }
    };
    data.extend(fields);
    Ok((data, token))
}

fn read<T: DeserializeOwned>(data: Map<String, Value>) -> Result<T, WebappError> {
    serde_json::from_value(Value::Object(data))
        .map_err(|error| WebappError::invalid_data(error.to_string()))
}

/// An integer given as a JSON number or as a string holding one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(number) => number
                .as_i64()
                .map(Int)
                .ok_or_else(|| D::Error::custom(format!("{number} is not an integer"))),
            Value::String(text) => text
                .trim()
                .parse()
                .map(Int)
                .map_err(|_| D::Error::custom(format!("{text:?} is not an integer"))),
            other => Err(D::Error::custom(format!("{other} is not an integer"))),
        }
    }
}

/// A boolean given as JSON `true`/`false` or as a string (`true`, `True`, `1`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Bool(flag) => Ok(Flag(flag)),
            Value::Null => Ok(Flag(false)),
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Ok(Flag(n.as_i64() == Some(1)))
            }
            Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(Flag(true)),
                "false" | "0" | "no" | "" => Ok(Flag(false)),
                _ => Err(D::Error::custom(format!("{text:?} is not a boolean"))),
            },
            other => Err(D::Error::custom(format!("{other} is not a boolean"))),
        }
    }
}

/// A point in time: ISO 8601 (with a zone; without one it is UTC) or Unix milliseconds, as a
/// number or a string. `null` and `""` (an empty `sessionStorage`) mean none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamp(pub Option<i64>);

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(Stamp(None)),
            Value::Number(number) => number
                .as_i64()
                .map(|ms| Stamp(Some(ms)))
                .ok_or_else(|| D::Error::custom(format!("{number} is not a time"))),
            Value::String(text) => super::time::parse(&text).map(Stamp).ok_or_else(|| {
                D::Error::custom(format!("{text:?} is not a time (ISO 8601 or Unix ms)"))
            }),
            other => Err(D::Error::custom(format!("{other} is not a time"))),
        }
    }
}
