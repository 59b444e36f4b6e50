//! Reading docker-compose.yml as the tests that check and run the deployment need it: our
//! containers, the binary each runs, and the environment Compose gives it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One container of ours: which binary it runs and the environment it is given.
#[derive(Debug)]
pub struct Container {
    pub place: String,
    /// The Compose service (or Kubernetes container) name.
    pub name: String,
    pub binary: String,
    pub env: BTreeMap<String, String>,
}

pub fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_norway::Deserializer::from_str(&text)
        .map(|document| {
            let mut value = Value::deserialize(document)
                .unwrap_or_else(|error| panic!("{} is not YAML: {error}", path.display()));
            value
                .apply_merge()
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            value
        })
        .filter(|value| !value.is_null())
        .collect()
}

pub fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// `${NAME:-default}` becomes the default, and `${NAME:?message}` (a value the operator must
/// give, such as JWT_SECRET) a stand-in long enough for any secret.
pub fn interpolate(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("an unclosed ${");
        let expression = &rest[start + 2..end];
        if let Some((_, default)) = expression.split_once(":-") {
            out.push_str(default);
        } else {
            assert!(
                expression.contains(":?"),
                "${{{expression}}} has no default"
            );
            out.push_str("operator-supplied-value-of-at-least-32-bytes");
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The image's binary a container runs: its command's first word, or the image's default.
pub fn binary_of(command: Option<&Value>) -> String {
    let first = match command {
        Some(Value::Sequence(words)) => words.first().map(text),
        Some(Value::String(line)) => line.split_whitespace().next().map(str::to_owned),
        _ => None,
    };
    let first = first.unwrap_or_else(|| "chat-backend".to_owned());
    first.rsplit('/').next().unwrap_or_default().to_owned()
}

pub fn is_our_image(image: Option<&Value>) -> bool {
    image
        .and_then(Value::as_str)
        .is_some_and(|image| image == "chat-backend" || image.starts_with("chat-backend:"))
}

pub fn compose_containers() -> Vec<Container> {
    let path = root().join("docker-compose.yml");
    let compose = yaml_documents(&path).remove(0);
    let services = compose["services"]
        .as_mapping()
        .expect("docker-compose.yml has services");
    let mut containers = Vec::new();
    for (name, service) in services {
        if !is_our_image(service.get("image")) {
            continue;
        }
        let name = text(name);
        assert!(
            service.get("env_file").is_none(),
            "{name}: use `environment:` so that this test sees every variable"
        );
        let mut env = BTreeMap::new();
        match service.get("environment") {
            Some(Value::Mapping(entries)) => {
                for (key, value) in entries {
                    env.insert(text(key), interpolate(&text(value)));
                }
            }
            Some(Value::Sequence(entries)) => {
                for entry in entries {
                    let entry = text(entry);
                    let (key, value) = entry.split_once('=').unwrap_or((&entry, ""));
                    env.insert(key.to_owned(), interpolate(value));
                }
            }
            _ => {}
        }
        containers.push(Container {
            place: format!("docker-compose.yml service {name}"),
            name: name.clone(),
            binary: binary_of(service.get("command")),
            env,
        });
    }
    containers
}
