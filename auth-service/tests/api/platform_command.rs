//! `auth-service platform create|revoke NAME`: the operator's commands of a services
//! deployment, on the database the service serves (`DATABASE_URL`).

use auth_service::{AuthStore, PgAuthStore};
use service_runtime::postgres::{create_test_database, test_admin_url};
use sha2::{Digest, Sha256};

fn run(database: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
        .env("DATABASE_URL", database)
        .arg("platform")
        .args(args)
        .output()
        .expect("run auth-service")
}

#[tokio::test]
async fn the_binary_creates_a_platform_whose_key_only_its_hash_is_kept_and_revokes_it() {
    let database = create_test_database(&test_admin_url())
        .await
        .expect("a test database");
    let created = run(&database, &["create", "acme"]);
    assert!(created.status.success(), "{created:?}");
    let stdout = String::from_utf8(created.stdout).expect("UTF-8");
    let key = stdout.lines().last().expect("the key").trim().to_owned();
    assert!(key.starts_with("pk_"), "{stdout}");
    let store = PgAuthStore::connect(&database, 1).await.expect("the store");
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    let platform = store.platform_by_key_hash(&hash).await.expect("look up");
    assert_eq!(platform.map(|p| p.name), Some("acme".to_owned()));
    assert!(!run(&database, &["create", "acme"]).status.success());
    assert!(!run(&database, &["create", "bad name"]).status.success());
    assert!(run(&database, &["revoke", "acme"]).status.success());
    assert_eq!(
        store.platform_by_key_hash(&hash).await.expect("look up"),
        None
    );
    assert!(!run(&database, &["revoke", "acme"]).status.success());
}
