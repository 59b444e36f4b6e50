//! The OpenAPI document is a contract a client can be generated from: operation ids unique and
//! named after their dialect, a description on every response, parameters where the handlers
//! read them, each dialect's schemas under its own name, every error with its dialect's body —
//! and the answers of the running gateway are the bodies the document describes.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_stack};

backend_tests!(answers_are_the_documented_bodies);

const DIALECTS: [&str; 4] = ["native", "echat", "messenger", "webapp"];

fn document() -> Value {
    serde_json::to_value(gateway::openapi::document()).expect("the document as JSON")
}

/// Every operation: (method, path, operation).
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if Method::from_bytes(method.to_uppercase().as_bytes()).is_ok() {
                found.push((method.clone(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

fn dialect(operation: &Value) -> Option<&str> {
    let tag = operation["tags"][0].as_str()?;
    DIALECTS.contains(&tag).then_some(tag)
}

/// The schema of each dialect's error bodies.
fn error_schema(dialect: &str) -> &'static str {
    match dialect {
        "native" => "#/components/schemas/native.ErrorJson",
        "echat" => "#/components/schemas/echat.ErrorJson",
        "webapp" => "#/components/schemas/webapp.ErrorJson",
        _ => "#/components/schemas/messenger.ErrorBody",
    }
}

#[test]
fn operation_ids_are_unique_and_name_their_dialect() {
    let document = document();
    let mut seen = BTreeMap::new();
    for (method, path, operation) in operations(&document) {
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        if let Some(dialect) = dialect(&operation) {
            assert!(
                id.starts_with(&format!("{dialect}_")),
                "{method} {path}: the operationId {id} does not name its dialect {dialect}"
            );
        }
        if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
            panic!("the operationId {id} of {method} {path} is also {other}'s");
        }
    }
}

#[test]
fn every_response_is_described_and_every_error_has_its_dialects_body() {
    let document = document();
    for (method, path, operation) in operations(&document) {
        let responses = operation["responses"].as_object().expect("responses");
        assert!(!responses.is_empty(), "{method} {path}: no responses");
        for (status, response) in responses {
            let description = response["description"].as_str().unwrap_or_default();
            assert!(
                !description.trim().is_empty(),
                "{method} {path} {status}: no description"
            );
            let (Some(dialect), true) = (dialect(&operation), status.as_str() >= "400") else {
                continue;
            };
            let schema = &response["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(
                schema.as_str(),
                Some(error_schema(dialect)),
                "{method} {path} {status}: the body of a {dialect} error"
            );
        }
    }
}

#[test]
fn parameters_are_where_the_handlers_read_them() {
    let document = document();
    for (method, path, operation) in operations(&document) {
        let template: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let mut in_path = BTreeSet::new();
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let name = parameter["name"].as_str().expect("a parameter's name");
            if parameter["in"] == "path" {
                assert!(
                    template.contains(name),
                    "{method} {path}: the path parameter {name} is not in the path"
                );
                assert_eq!(parameter["required"], true, "{method} {path}: {name}");
                in_path.insert(name);
            }
        }
        assert_eq!(
            in_path, template,
            "{method} {path}: the path's parameters as declared"
        );
    }
    for (path, query) in [
        (
            "/groups/{group_id}/messages",
            &["before_seq", "after_seq", "before", "after", "limit"][..],
        ),
        ("/v1/rooms/{room_id}/messages", &["limit", "before"]),
        ("/v1/users", &["q", "limit"]),
        ("/v1/users/", &["q", "limit"]),
        ("/", &["token"]),
    ] {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("GET {path}: parameters"));
        for name in query {
            let parameter = parameters
                .iter()
                .find(|p| p["name"] == *name)
                .unwrap_or_else(|| panic!("GET {path}: no parameter {name}"));
            assert_eq!(parameter["in"], "query", "GET {path}: {name}");
            assert_ne!(
                parameter["required"], true,
                "GET {path}: {name} is optional"
            );
        }
    }
}

/// The properties of the object a response's schema describes.
fn documented_fields(document: &Value, method: &str, path: &str, status: &str) -> Vec<String> {
    let response = &document["paths"][path][method]["responses"][status];
    let schema = resolve(document, &response["content"]["application/json"]["schema"]);
    let mut fields: Vec<String> = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} {status}: an object"))
        .keys()
        .cloned()
        .collect();
    fields.sort();
    fields
}

fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("a schema reference");
            let found = &document["components"]["schemas"][name];
            assert!(found.is_object(), "the schema {name}");
            found
        }
        None => schema,
    }
}

#[test]
fn each_dialect_documents_its_own_bodies() {
    let document = document();
    let cases: [(&str, &str, &str, &[&str]); 8] = [
        (
            "post",
            "/api/auth/register",
            "201",
            &["createdAt", "email", "firstName", "id", "lastName"],
        ),
        (
            "post",
            "/api/users",
            "201",
            &["createdAt", "email", "firstName", "id", "lastName"],
        ),
        (
            "post",
            "/api/auth/login",
            "200",
            &["expiresAt", "token", "user"],
        ),
        (
            "post",
            "/api/auth/login",
            "401",
            &["code", "error", "message"],
        ),
        (
            "post",
            "/login",
            "200",
            &["expires_at", "session_id", "token", "user_id"],
        ),
        ("post", "/users", "200", &["id", "number", "username"]),
        ("post", "/v1/login", "200", &["session_id"]),
        ("get", "/v1/info", "200", &["id", "login"]),
    ];
    for (method, path, status, fields) in cases {
        assert_eq!(
            documented_fields(&document, method, path, status),
            fields,
            "{method} {path} {status}"
        );
    }
    for (path, dialect) in [
        ("/api/auth/login", "messenger"),
        ("/login", "native"),
        ("/v1/login", "echat"),
    ] {
        let body = &document["paths"][path]["post"]["requestBody"]["content"]["application/json"];
        assert_eq!(
            body["schema"]["$ref"],
            format!("#/components/schemas/{dialect}.Credentials"),
            "POST {path}: the credentials of {dialect}"
        );
    }
}

/// Where `value` does not have the shape `schema` describes: each property answered is
/// documented, each required one answered, and the types agree.
fn mismatches(document: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let schema = resolve(document, schema);
    if let Some(choices) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let fits = choices.iter().any(|choice| {
            let mut inner = Vec::new();
            mismatches(document, choice, value, at, &mut inner);
            inner.is_empty()
        });
        if !fits {
            found.push(format!("{at}: {value} is none of {choices:?}"));
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => return,
    };
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = types.contains(&kind) || (kind == "integer" && types.contains(&"number"));
    if !fits {
        found.push(format!("{at}: a {kind}, documented as {types:?}"));
        return;
    }
    match value {
        Value::Object(fields) => {
            let properties = schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            for (name, field) in fields {
                match properties.get(name) {
                    Some(property) => {
                        mismatches(document, property, field, &format!("{at}.{name}"), found)
                    }
                    None => found.push(format!("{at}.{name}: answered, not documented")),
                }
            }
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap_or_default();
                if !fields.contains_key(name) {
                    found.push(format!("{at}.{name}: documented as required, not answered"));
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let at = format!("{at}[{index}]");
                mismatches(document, &schema["items"], item, &at, found);
            }
        }
        _ => {}
    }
}

/// Asserts that the answer's status is documented for the operation and its body has the
/// documented shape.
fn assert_documented(document: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let operation = &document["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} answered {status}, which is not documented: {body}"
    );
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} {status}: no body documented"
    );
    let mut found = Vec::new();
    mismatches(document, schema, body, "body", &mut found);
    assert!(
        found.is_empty(),
        "{method} {path} {status} answered {body}, not the documented body: {found:#?}"
    );
}

/// Each dialect's registration, login and a refused login answer what the document says.
async fn answers_are_the_documented_bodies(backend: Backend) {
    let document = document();
    let stack = spawn_stack(backend, 1).await;
    let check = |method: &str, path: &str, answer: &(u16, Value)| {
        assert_documented(&document, method, path, answer.0, &answer.1);
        answer.1.clone()
    };

    let pat = json!({"email": "pat@example.com", "password": "0000", "firstName": "Pat"});
    let registered = stack.post(0, "/api/auth/register", None, pat).await;
    assert_eq!(registered.0, 201, "{:?}", registered.1);
    check("post", "/api/auth/register", &registered);
    let login = json!({"email": "pat@example.com", "password": "0000"});
    let logged_in = stack.post(0, "/api/auth/login", None, login).await;
    assert_eq!(logged_in.0, 200, "{:?}", logged_in.1);
    let token = check("post", "/api/auth/login", &logged_in)["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    check(
        "get",
        "/api/users/me",
        &stack.get(0, "/api/users/me", &token).await,
    );
    let wrong = json!({"email": "pat@example.com", "password": "1111"});
    let refused = stack.post(0, "/api/auth/login", None, wrong).await;
    assert_eq!(refused.0, 401, "{:?}", refused.1);
    check("post", "/api/auth/login", &refused);
    let logged_out = stack
        .post(0, "/api/auth/logout", Some(&token), json!({}))
        .await;
    assert_eq!(logged_out.0, 200, "{:?}", logged_out.1);
    check("post", "/api/auth/logout", &logged_out);
    let refused = stack
        .post(0, "/api/auth/logout", Some(&token), json!({}))
        .await;
    assert_eq!(refused.0, 401, "{:?}", refused.1);
    check("post", "/api/auth/logout", &refused);

    let sam = json!({"username": "sam", "email": "sam@example.com", "password": "0000"});
    let created = stack.post(0, "/users", None, sam).await;
    assert_eq!(created.0, 200, "{:?}", created.1);
    check("post", "/users", &created);
    let login = json!({"username": "sam", "password": "0000"});
    let logged_in = stack.post(0, "/login", None, login).await;
    assert_eq!(logged_in.0, 200, "{:?}", logged_in.1);
    check("post", "/login", &logged_in);
    let wrong = json!({"username": "sam", "password": "1111"});
    let refused = stack.post(0, "/login", None, wrong).await;
    assert_eq!(refused.0, 401, "{:?}", refused.1);
    check("post", "/login", &refused);

    let kim = json!({"login": "kim", "password": "0000"});
    let registered = stack.post(0, "/v1/register", None, kim).await;
    assert_eq!(registered.0, 200, "{:?}", registered.1);
    let session = check("post", "/v1/register", &registered)["session_id"]
        .as_str()
        .expect("a session_id")
        .to_owned();
    check("get", "/v1/info", &stack.get(0, "/v1/info", &session).await);
    check(
        "get",
        "/v1/rooms",
        &stack.get(0, "/v1/rooms", &session).await,
    );
    let wrong = json!({"login": "kim", "password": "1111"});
    let refused = stack.post(0, "/v1/login", None, wrong).await;
    assert_eq!(refused.0, 422, "{:?}", refused.1);
    check("post", "/v1/login", &refused);
}
