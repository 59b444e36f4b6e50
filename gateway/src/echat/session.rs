//! Who is calling: the `session_id` /v1/login and /v1/register handed out (a session's opaque
//! token), resolved by auth-service. The document does not say how it travels, so every way
//! such a client might send it is taken, in this order: `Authorization: Bearer <id>` or a bare
//! `Authorization: <id>`, an `X-Session-Id` header, a `session_id` query parameter (what a
//! browser WebSocket can send), and a `session_id` cookie.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use chat_proto::auth::{Identity, ResolveSessionTokenRequest};

use super::error::EchatError;
use crate::state::AppState;

/// The name of the cookie, header-less query parameter and JSON field.
pub const SESSION_ID: &str = "session_id";

/// The caller's live session: user id and number, login, and session id.
#[derive(Debug, Clone)]
pub struct Caller(pub Identity);

/// A `Set-Cookie` value that hands a browser its session.
pub fn session_cookie(token: &str) -> String {
    format!("{SESSION_ID}={token}; HttpOnly; Path=/; SameSite=Lax")
}

/// A `Set-Cookie` value that makes a browser forget its session.
pub fn expired_cookie() -> String {
    format!("{SESSION_ID}=; HttpOnly; Path=/; SameSite=Lax; Max-Age=0")
}

/// The session id a request carries, wherever it carries it.
pub fn session_id(parts: &Parts) -> Option<String> {
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let authorization =
        header(AUTHORIZATION.as_str()).and_then(|value| match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Some(token.trim()),
            Some(_) => None,
            None => Some(value),
        });
    let query = || {
        Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|Query(mut params)| params.remove(SESSION_ID))
            .filter(|token| !token.is_empty())
    };
    let given = |token: &&str| !token.is_empty();
    authorization
        .filter(given)
        .or_else(|| header("x-session-id").filter(given))
        .map(str::to_owned)
        .or_else(query)
        .or_else(|| cookie(parts))
        .filter(|token| !token.is_empty())
}

fn cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_ID)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = EchatError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, EchatError> {
        let token = session_id(parts)
            .ok_or_else(|| EchatError::unauthorized("a session_id is required"))?;
        let identity = state
            .services
            .auth
            .clone()
            .resolve_session_token(ResolveSessionTokenRequest {
                session_token: token,
            })
            .await
            .map_err(|status| match status.code() {
                tonic::Code::NotFound | tonic::Code::Unauthenticated => {
                    EchatError::unauthorized("unknown or ended session")
                }
                _ => EchatError::from(status),
            })?
            .into_inner();
        Ok(Caller(identity))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::session_id;

    fn carried(request: axum::http::request::Builder) -> Option<String> {
        let (parts, ()) = request.body(()).expect("a request").into_parts();
        session_id(&parts)
    }

    #[test]
    fn every_carrier_is_read() {
        let get = || Request::get("/v1/info");
        assert_eq!(
            carried(get().header("authorization", "Bearer abc")),
            Some("abc".into())
        );
        assert_eq!(
            carried(get().header("authorization", "bearer abc")),
            Some("abc".into())
        );
        assert_eq!(
            carried(get().header("authorization", "abc")),
            Some("abc".into())
        );
        assert_eq!(
            carried(get().header("x-session-id", "abc")),
            Some("abc".into())
        );
        assert_eq!(
            carried(Request::get("/v1/rooms/1/chat?session_id=abc")),
            Some("abc".into())
        );
        assert_eq!(
            carried(get().header("cookie", "theme=dark; session_id=abc")),
            Some("abc".into())
        );
        assert_eq!(carried(get().header("authorization", "Basic eDp5")), None);
        assert_eq!(carried(get().header("cookie", "session_id=")), None);
        let both = Request::get("/v1/rooms/1/chat?session_id=").header("cookie", "session_id=abc");
        assert_eq!(carried(both), Some("abc".into()));
        assert_eq!(carried(get()), None);
    }
}
