//! The OpenAPI document lists every route the gateway serves: each documented operation is
//! answered by a route (not the router's 404 or 405), and routes can only be added through the
//! route table the document is made from (`gateway/src/openapi.rs`) — no source file adds one
//! any other way.

use std::path::Path;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{Backend, spawn_stack};

backend_tests!(every_documented_operation_is_served);

/// Ways to add a route to an axum router other than the route table's `routes!`.
const OTHER_WAYS: [&str; 6] = [
    ".route(",
    ".route_service(",
    ".nest(",
    ".nest_service(",
    "Router::new(",
    "axum::routing",
];

async fn every_documented_operation_is_served(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let base = &stack.gateways[0];
    let document: Value = stack
        .http
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .expect("the document")
        .json()
        .await
        .expect("JSON");
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for (method, operation) in item.as_object().expect("a path item") {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            operations += 1;
            let tags = operation["tags"].as_array().expect("tags");
            let known = [
                "native",
                "echat",
                "messenger",
                "webapp",
                "platform",
                "web",
                "operations",
                "documentation",
            ];
            assert!(
                tags.len() == 1 && known.contains(&tags[0].as_str().unwrap_or_default()),
                "{method} {path}: tags {tags:?}"
            );
            assert!(
                operation["summary"].is_string(),
                "{method} {path}: a summary"
            );
            assert!(
                operation["responses"].is_object(),
                "{method} {path}: responses"
            );
            let mut request = stack
                .http
                .request(method.clone(), format!("{base}{concrete}"));
            if method == Method::POST || method == Method::PUT || method == Method::PATCH {
                request = request.body("{}");
            }
            let response = request.send().await.expect("a response");
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{method} {path} is documented but not served");
            assert!(
                !(status == 404 && body.is_empty()),
                "{method} {path} is documented but no route answers it"
            );
        }
    }
    assert!(operations >= 40, "only {operations} operations documented");
    for path in [
        "/users",
        "/v1/rooms",
        "/api/auth/register",
        "/",
        "/metrics",
        "/api/",
        "/token",
        "/backend/chats/{chatID}/users",
        "/chats/{chatID}",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} is missing from the document"
        );
    }
    for schema in [
        "messenger.UserJson",
        "messenger.Registration",
        "native.GroupJson",
        "echat.RoomJson",
        "messenger.ErrorBody",
        "platform.Chat",
        "platform.Error",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "the schema {schema}"
        );
    }
    let page = stack
        .http
        .get(format!("{base}/api/"))
        .send()
        .await
        .expect("Swagger UI");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap_or_default().contains("swagger-ui"));
}

#[test]
fn routes_are_added_only_through_the_route_table() {
    let mut found = Vec::new();
    scan(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(
        found.is_empty(),
        "routes added outside the route table: {found:#?}"
    );
}

fn scan(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("the source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            scan(&path, found);
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a source file");
        let swagger = path.ends_with("openapi.rs");
        for (number, line) in text.lines().enumerate() {
            // The route table's own router is the one way.
            let line = line.replace("OpenApiRouter", "");
            let other = OTHER_WAYS.iter().any(|way| line.contains(way));
            if other || (!swagger && line.contains("Router::from(")) {
                found.push(format!(
                    "{}:{}: {}",
                    path.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
}
