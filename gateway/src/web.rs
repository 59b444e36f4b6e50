//! The web chat client (`gateway/web/`), built into the binary: its page at `/` for a browser
//! (a request whose `Accept` prefers `text/html`; API clients keep the JSON index) and its
//! files under `/web/`. Plain ES modules and CSS, so nothing is built and nothing is fetched
//! from another host. Every answer carries an `ETag` and `Cache-Control: no-cache`: a browser
//! keeps the files and revalidates them with a 304, and a new binary is picked up at once.

use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The page's rules: its own files, sockets and requests to its own origin, nothing else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// One file of the client.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const INDEX: Asset = Asset {
    name: "index.html",
    content_type: "text/html; charset=utf-8",
    body: include_bytes!("../web/index.html"),
};

/// The files under `/web/`.
const ASSETS: [Asset; 7] = [
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/app.js"),
    },
    Asset {
        name: "store.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/store.js"),
    },
    Asset {
        name: "render.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/render.js"),
    },
    Asset {
        name: "api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/api.js"),
    },
    Asset {
        name: "connection.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/connection.js"),
    },
    Asset {
        name: "view.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/view.js"),
    },
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../web/style.css"),
    },
];

/// Each file's entity tag, from its bytes: the same on every replica running this binary.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    std::iter::once(&INDEX)
        .chain(ASSETS.iter())
        .map(|asset| {
            let mut hasher = std::hash::DefaultHasher::new();
            asset.body.hash(&mut hasher);
            format!("\"{:016x}\"", hasher.finish())
        })
        .collect()
});

/// Whether the request's `Accept` ranks `text/html` above JSON: what a browser navigating to a
/// page sends (`text/html,…,*/*;q=0.8`), and what no API client sends by default.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let html = quality(accept, "text", "html", true);
    html > 0.0 && html > quality(accept, "application", "json", false)
}

/// The quality `accept` gives `kind/sub`: the most specific range that matches it (with
/// `exact_only`, only the type named exactly counts, not `*/*`).
fn quality(accept: &str, kind: &str, sub: &str, exact_only: bool) -> f32 {
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|param| param.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let specificity = match media.split_once('/') {
            Some((k, s)) if k == kind && s == sub => 2,
            Some((k, "*")) if k == kind && !exact_only => 1,
            Some(("*", "*")) if !exact_only => 0,
            _ => continue,
        };
        if best.is_none_or(|(seen, _)| specificity > seen) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// The client's page, for `GET /` from a browser.
pub fn index(headers: &HeaderMap) -> Response {
    serve(&INDEX, &ETAGS[0], headers)
}

#[utoipa::path(get, path = "/web/{file}", tag = "web",
    summary = "A file of the web chat client whose page a browser gets at /",
    operation_id = "web_client_file",
    params(("file" = String, Path, description = "app.js, store.js, render.js, api.js, connection.js, view.js or style.css")),
    responses((status = 200, description = "the file, with its content type and an ETag"),
        (status = 304, description = "the file the browser has (If-None-Match) is current"),
        (status = 404, description = "no such file", body = String, content_type = "text/plain")))]
pub async fn web_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().position(|asset| asset.name == file) {
        Some(at) => serve(&ASSETS[at], &ETAGS[at + 1], &headers),
        None => (StatusCode::NOT_FOUND, "no such file of the web client\n").into_response(),
    }
}

fn serve(asset: &Asset, etag: &str, headers: &HeaderMap) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.body.into_response()
    };
    let set = response.headers_mut();
    if !fresh {
        set.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
    }
    if let Ok(etag) = HeaderValue::from_str(etag) {
        set.insert(header::ETAG, etag);
    }
    set.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    set.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set.insert(header::VARY, HeaderValue::from_static("accept"));
    if asset.name == INDEX.name {
        set.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        set.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_browser_navigation_prefers_html() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
            image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        assert!(prefers_html(&accept(chromium)));
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(prefers_html(&accept(firefox)));
    }

    #[test]
    fn api_clients_keep_json() {
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers_html(&accept("*/*")));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept("application/json, text/html;q=0.5")));
        assert!(!prefers_html(&accept("text/html, application/json")));
        assert!(!prefers_html(&accept("text/html;q=0")));
    }

    #[test]
    fn every_file_has_its_own_tag() {
        let mut tags = ETAGS.clone();
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len() + 1);
    }
}
