//! The web chat client (`gateway/web/`): its page for a browser at `/` while API clients keep
//! the JSON index, its files with their types and cache validators, and the native routes it
//! added — finding people (`GET /users`) and a direct conversation (`PUT /users/{id}/direct`).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{Backend, spawn_stack};

backend_tests!(people_are_found_and_a_direct_conversation_is_made_once);

const CHROMIUM_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,\
    image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

#[tokio::test]
async fn browsers_get_the_client_and_api_clients_the_index() {
    let stack = spawn_stack(Backend::SqliteMemory, 1).await;
    let base = &stack.gateways[0];
    let http = &stack.http;

    let page = http
        .get(format!("{base}/"))
        .header("accept", CHROMIUM_ACCEPT)
        .send()
        .await
        .expect("the page");
    assert_eq!(page.status().as_u16(), 200);
    let header = |name: &str| {
        page.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    assert_eq!(header("cache-control"), "no-cache");
    assert!(header("content-security-policy").contains("default-src 'self'"));
    assert!(!header("etag").is_empty());
    let html = page.text().await.expect("the page's text");
    assert!(html.contains(r#"src="/web/app.js""#), "{html}");

    for accept in [None, Some("*/*"), Some("application/json")] {
        let mut request = http.get(format!("{base}/"));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let index: Value = request
            .send()
            .await
            .expect("the index")
            .json()
            .await
            .expect("JSON");
        assert_eq!(index["openapi"], "/api/openapi.json", "Accept {accept:?}");
    }

    // Every file the page and its modules name is served, with its type; none from elsewhere.
    let mut wanted: BTreeSet<String> = references(&html, "/web/");
    let mut served = BTreeSet::new();
    while let Some(name) = wanted.pop_first() {
        let response = http
            .get(format!("{base}/web/{name}"))
            .send()
            .await
            .expect("a file");
        assert_eq!(response.status().as_u16(), 200, "/web/{name}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(response.headers()["cache-control"], "no-cache");
        let expected = if name.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        assert_eq!(kind, expected, "/web/{name}");
        let text = response.text().await.expect("text");
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "/web/{name} names another host"
        );
        served.insert(name.clone());
        wanted.extend(references(&text, "./").difference(&served).cloned());

        let again = http
            .get(format!("{base}/web/{name}"))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("a revalidation");
        assert_eq!(again.status().as_u16(), 304, "/web/{name} with its ETag");
    }
    assert!(
        served.contains("app.js") && served.contains("style.css"),
        "{served:?}"
    );

    let missing = http
        .get(format!("{base}/web/secrets.txt"))
        .send()
        .await
        .expect("a missing file");
    assert_eq!(missing.status().as_u16(), 404);
}

/// The `.js` and `.css` file names that follow `prefix` in `text` (`/web/app.js`, `'./api.js'`).
fn references(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .filter_map(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            let end = rest.find(['"', '\'', ' ', ')'])?;
            let name = &rest[..end];
            (name.ends_with(".js") || name.ends_with(".css")).then(|| name.to_owned())
        })
        .collect()
}

async fn people_are_found_and_a_direct_conversation_is_made_once(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let ann = stack.user(0, "ann_web").await;
    let bert = stack.user(1, "bert_web").await;
    let _carl = stack.user(0, "carl_web").await;

    let (status, found) = stack.get(0, "/users?q=BERT", &ann.token).await;
    assert_eq!(status, 200, "{found}");
    let names: Vec<&str> = found["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bert_web"]);
    assert_eq!(found["users"][0]["id"], bert.id.as_str());
    assert!(
        found["users"][0].get("email").is_none(),
        "no email shown: {found}"
    );

    let unknown = uuid::Uuid::new_v4();
    let path = format!("/users?ids={},{},{unknown}", ann.id, bert.id);
    let (status, found) = stack.get(1, &path, &ann.token).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["users"].as_array().unwrap().len(), 2, "{found}");
    let (status, everyone) = stack.get(0, "/users", &bert.token).await;
    assert_eq!(status, 200);
    assert_eq!(everyone["users"].as_array().unwrap().len(), 3, "{everyone}");
    let (status, refused) = stack
        .call(0, reqwest::Method::GET, "/users?q=a", None, None)
        .await;
    assert_eq!(status, 401, "{refused}");

    let (status, direct) = stack
        .put(
            0,
            &format!("/users/{}/direct", bert.id),
            &ann.token,
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{direct}");
    assert_eq!(direct["kind"], "direct");
    let members: BTreeSet<&str> = direct["user_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    assert_eq!(members, BTreeSet::from([ann.id.as_str(), bert.id.as_str()]));
    let (status, same) = stack
        .put(
            1,
            &format!("/users/{}/direct", ann.id),
            &bert.token,
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(same["id"], direct["id"], "one direct conversation per pair");

    let (status, listed) = stack.get(0, "/groups", &ann.token).await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["kind"], "direct", "{listed}");
    let group = stack.group(0, &ann, "a group", &[&bert]).await;
    let (_, shown) = stack.get(1, &format!("/groups/{group}"), &bert.token).await;
    assert_eq!(shown["kind"], "group", "{shown}");

    let (status, error) = stack
        .put(
            0,
            &format!("/users/{}/direct", ann.id),
            &ann.token,
            Value::Null,
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, error) = stack
        .put(
            0,
            &format!("/users/{unknown}/direct"),
            &ann.token,
            Value::Null,
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (404, Some("user_not_found"))
    );
}
