//! The environment the deployment files give each binary, checked against the binary's own clap
//! configuration: every variable set in docker-compose.yml and k8s/ is one the binary reads, its
//! value parses, and every variable the binary requires is set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use serde_norway::Value;

#[path = "support/compose.rs"]
mod compose;

use compose::{
    Container, binary_of, compose_containers, interpolate, is_our_image, root, text, yaml_documents,
};

/// Read by every binary besides its flags: the log filter of `service_runtime::telemetry`.
const PROCESS_WIDE: &[&str] = &["RUST_LOG"];

/// The binaries of the image that take their configuration from the environment.
fn command_of(binary: &str) -> Option<clap::Command> {
    Some(match binary {
        "auth-service" => auth_service::Config::command(),
        "chat-service" => chat_service::Config::command(),
        "presence-service" => presence_service::Config::command(),
        "gateway" => gateway::Config::command(),
        "chat-backend" => chat_backend::Options::command(),
        _ => return None,
    })
}

/// What is wrong with `container`'s environment, checked against its binary's flags.
fn problems(container: &Container) -> Vec<String> {
    let place = &container.place;
    let Some(command) = command_of(&container.binary) else {
        return vec![format!(
            "{place}: runs {:?}, not a binary of the image",
            container.binary
        )];
    };
    let mut problems = Vec::new();
    let mut args = vec![container.binary.clone()];
    let mut readable = BTreeSet::new();
    for arg in command.get_arguments() {
        let Some(name) = arg
            .get_env()
            .map(|name| name.to_string_lossy().into_owned())
        else {
            continue;
        };
        readable.insert(name.clone());
        let required = arg.is_required_set() && arg.get_default_values().is_empty();
        let Some(value) = container.env.get(&name) else {
            if required {
                problems.push(format!(
                    "{place}: {name} is required by {} but not set",
                    container.binary
                ));
            }
            continue;
        };
        // The value as the flag it stands for, so that clap checks it as it would the variable.
        let long = arg
            .get_long()
            .expect("every flag with an environment variable is long");
        if arg.get_action().takes_values() {
            args.push(format!("--{long}={value}"));
        } else {
            match value.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" | "y" => args.push(format!("--{long}")),
                "false" | "0" | "no" | "off" | "n" | "" => {}
                _ => problems.push(format!("{place}: {name}={value:?} is not a boolean")),
            }
        }
    }
    for name in container.env.keys() {
        if !readable.contains(name) && !PROCESS_WIDE.contains(&name.as_str()) {
            problems.push(format!(
                "{place}: {name} is set but {} does not read it",
                container.binary
            ));
        }
    }
    // Parse with the variables cleared, so that this process's own environment plays no part.
    let command = command.mut_args(|arg| arg.env(None::<&str>));
    if let Err(error) = command.try_get_matches_from(&args) {
        problems.push(format!(
            "{place}: {} refuses its settings: {error}",
            container.binary
        ));
    }
    problems
}

/// Every file under `dir` whose name ends with `suffix`.
fn files_under(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            found.extend(files_under(&path, suffix));
        } else if path.to_string_lossy().ends_with(suffix) {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// `KEY=VALUE` lines, as kustomize's `envs:` files hold them.
fn env_file(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (key, value) = line.split_once('=').unwrap_or((line, ""));
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

/// The ConfigMaps and Secrets of k8s/ by name, with their keys and values, from kustomize
/// generators (overlays merging into the base's) and plain resources. The operator's secret
/// files are git-ignored: their committed `*.example` stands in.
#[derive(Default)]
struct Sources {
    config_maps: BTreeMap<String, BTreeMap<String, String>>,
    secrets: BTreeMap<String, BTreeMap<String, String>>,
}

impl Sources {
    fn add_generator(
        target: &mut BTreeMap<String, BTreeMap<String, String>>,
        dir: &Path,
        generator: &Value,
    ) {
        let name = text(&generator["name"]);
        let data = target.entry(name).or_default();
        for literal in generator
            .get("literals")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let literal = text(literal);
            let (key, value) = literal.split_once('=').unwrap_or((&literal, ""));
            data.insert(key.to_owned(), value.to_owned());
        }
        for file in generator
            .get("envs")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let path = dir.join(text(file));
            let example = PathBuf::from(format!("{}.example", path.display()));
            data.extend(env_file(if example.exists() { &example } else { &path }));
        }
    }

    fn add_resource(&mut self, document: &Value) {
        let kind = document.get("kind").map(text).unwrap_or_default();
        let target = match kind.as_str() {
            "ConfigMap" => &mut self.config_maps,
            "Secret" => &mut self.secrets,
            _ => return,
        };
        let data = target
            .entry(text(&document["metadata"]["name"]))
            .or_default();
        for field in ["data", "stringData"] {
            for (key, value) in document
                .get(field)
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
            {
                data.insert(text(key), text(value));
            }
        }
    }
}

/// Every container of ours in k8s/, with the environment it is given, and every Secret key that
/// some container takes.
fn kubernetes_containers() -> (Vec<Container>, Sources, BTreeSet<(String, String)>) {
    let k8s = root().join("k8s");
    let mut sources = Sources::default();
    let mut workloads = Vec::new();
    for path in files_under(&k8s, ".yaml") {
        let dir = path.parent().expect("a file in a directory").to_owned();
        for document in yaml_documents(&path) {
            if document.get("kind").map(text).as_deref() == Some("Kustomization") {
                for generator in document
                    .get("configMapGenerator")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                {
                    Sources::add_generator(&mut sources.config_maps, &dir, generator);
                }
                for generator in document
                    .get("secretGenerator")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                {
                    Sources::add_generator(&mut sources.secrets, &dir, generator);
                }
            } else {
                sources.add_resource(&document);
                workloads.push((
                    path.strip_prefix(root())
                        .unwrap_or(&path)
                        .display()
                        .to_string(),
                    document,
                ));
            }
        }
    }

    let mut containers = Vec::new();
    let mut secret_keys_used = BTreeSet::new();
    for (file, document) in &workloads {
        let kind = document.get("kind").map(text).unwrap_or_default();
        let pod = match kind.as_str() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => {
                &document["spec"]["template"]["spec"]
            }
            "CronJob" => &document["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => continue,
        };
        let name = text(&document["metadata"]["name"]);
        let all = ["initContainers", "containers"]
            .into_iter()
            .filter_map(|field| pod.get(field).and_then(Value::as_sequence))
            .flatten();
        for container in all {
            let place = format!(
                "{file}: {kind} {name}, container {}",
                text(&container["name"])
            );
            let mut env = BTreeMap::new();
            for source in container
                .get("envFrom")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                if let Some(reference) = source.get("configMapRef") {
                    let map = text(&reference["name"]);
                    let data = sources
                        .config_maps
                        .get(&map)
                        .unwrap_or_else(|| panic!("{place}: no ConfigMap {map}"));
                    env.extend(data.clone());
                }
                if let Some(reference) = source.get("secretRef") {
                    let secret = text(&reference["name"]);
                    let data = sources
                        .secrets
                        .get(&secret)
                        .unwrap_or_else(|| panic!("{place}: no Secret {secret}"));
                    for key in data.keys() {
                        secret_keys_used.insert((secret.clone(), key.clone()));
                    }
                    env.extend(data.clone());
                }
            }
            for variable in container
                .get("env")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                let key = text(&variable["name"]);
                let value = if let Some(value) = variable.get("value") {
                    text(value)
                } else if let Some(reference) = variable
                    .get("valueFrom")
                    .and_then(|from| from.get("secretKeyRef"))
                {
                    let (secret, wanted) = (text(&reference["name"]), text(&reference["key"]));
                    let value = sources
                        .secrets
                        .get(&secret)
                        .and_then(|data| data.get(&wanted))
                        .cloned();
                    let value = value
                        .unwrap_or_else(|| panic!("{place}: Secret {secret} has no key {wanted}"));
                    secret_keys_used.insert((secret, wanted));
                    value
                } else if let Some(reference) = variable
                    .get("valueFrom")
                    .and_then(|from| from.get("configMapKeyRef"))
                {
                    let (map, wanted) = (text(&reference["name"]), text(&reference["key"]));
                    let value = sources
                        .config_maps
                        .get(&map)
                        .and_then(|data| data.get(&wanted))
                        .cloned();
                    value.unwrap_or_else(|| panic!("{place}: ConfigMap {map} has no key {wanted}"))
                } else {
                    // A field of the pod, such as its name.
                    "from-the-pod".to_owned()
                };
                env.insert(key, value);
            }
            let ours = is_our_image(container.get("image"));
            let named_after_binary =
                container.get("image").is_none() && command_of(&text(&container["name"])).is_some();
            if !ours && !named_after_binary {
                continue;
            }
            let binary = match container.get("command") {
                Some(command) => binary_of(Some(command)),
                None if named_after_binary => text(&container["name"]),
                None => binary_of(None),
            };
            let name = text(&container["name"]);
            containers.push(Container {
                place,
                name,
                binary,
                env,
            });
        }
    }
    (containers, sources, secret_keys_used)
}

fn assert_no_problems(containers: &[Container]) {
    let problems: Vec<String> = containers.iter().flat_map(problems).collect();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

fn binaries(containers: &[Container]) -> BTreeSet<&str> {
    containers
        .iter()
        .map(|container| container.binary.as_str())
        .collect()
}

#[test]
fn compose_gives_each_binary_exactly_what_it_reads() {
    let containers = compose_containers();
    let expected = BTreeSet::from([
        "auth-service",
        "chat-service",
        "gateway",
        "presence-service",
    ]);
    assert_eq!(binaries(&containers), expected);
    let gateways = containers.iter().filter(|c| c.binary == "gateway").count();
    assert_eq!(gateways, 2, "two gateway replicas behind nginx");
    assert_no_problems(&containers);
}

#[test]
fn kubernetes_gives_each_binary_exactly_what_it_reads() {
    let (containers, _, _) = kubernetes_containers();
    let expected = BTreeSet::from([
        "auth-service",
        "chat-service",
        "gateway",
        "presence-service",
    ]);
    assert_eq!(binaries(&containers), expected);
    assert_no_problems(&containers);
}

#[test]
fn every_secret_key_is_taken_by_some_container() {
    let (_, sources, used) = kubernetes_containers();
    assert!(!sources.secrets.is_empty(), "k8s/ generates its secrets");
    for (secret, data) in &sources.secrets {
        for key in data.keys() {
            assert!(
                used.contains(&(secret.clone(), key.clone())),
                "Secret {secret} holds {key}, which no container takes"
            );
        }
    }
}

#[test]
fn the_checks_catch_what_they_are_for() {
    let mut env: BTreeMap<String, String> = [
        ("DATABASE_URL", "postgres://db/chat"),
        ("LISTEN_ADDR", "0.0.0.0:50052"),
        ("REDIS_URL", "redis://redis:6379"),
        ("PRESENCE_URL", "http://presence-service:50053"),
    ]
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .into();
    let container = |env: &BTreeMap<String, String>| Container {
        place: "test".into(),
        name: "chat-service".into(),
        binary: "chat-service".into(),
        env: env.clone(),
    };
    assert!(
        problems(&container(&env)).is_empty(),
        "{:?}",
        problems(&container(&env))
    );

    env.insert("JWT_SECRET".into(), "x".repeat(40));
    assert!(
        problems(&container(&env))
            .iter()
            .any(|p| p.contains("does not read it"))
    );
    env.remove("JWT_SECRET");

    env.insert("LISTEN_ADDR".into(), "not-an-address".into());
    assert!(
        problems(&container(&env))
            .iter()
            .any(|p| p.contains("refuses its settings"))
    );
    env.insert("LISTEN_ADDR".into(), "0.0.0.0:50052".into());

    env.extend([
        ("MIGRATE_ONLY".into(), "true".into()),
        ("SKIP_MIGRATIONS".into(), "true".into()),
    ]);
    assert!(
        problems(&container(&env))
            .iter()
            .any(|p| p.contains("refuses its settings"))
    );
    env.remove("SKIP_MIGRATIONS");

    env.remove("DATABASE_URL");
    assert!(
        problems(&container(&env))
            .iter()
            .any(|p| p.contains("DATABASE_URL is required"))
    );

    assert_eq!(
        interpolate("postgres://chat:${PW:-dev}@postgres/chat"),
        "postgres://chat:dev@postgres/chat"
    );
    assert!(interpolate("${JWT_SECRET:?set it}").len() >= 32);
}
