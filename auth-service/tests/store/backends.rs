//! The stores the conformance suite runs against: Postgres with a fresh database per test, and
//! SQLite in a fresh file per test.

use std::path::{Path, PathBuf};

use auth_service::{PgAuthStore, SqliteAuthStore};
use service_runtime::postgres::{create_test_database, test_admin_url};

/// A Postgres store over a new, migrated database. Panics when Postgres is unreachable: a test
/// that cannot reach its database fails, it does not skip.
pub async fn postgres_store() -> PgAuthStore {
    let url = create_test_database(&test_admin_url())
        .await
        .expect("cannot create a test database");
    PgAuthStore::connect(&url, 4)
        .await
        .expect("cannot open the Postgres auth store")
}

/// A directory of its own under the system's temporary directory, removed when dropped.
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    pub fn new() -> Self {
        let name = format!("auth-store-test-{}", uuid::Uuid::new_v4().simple());
        TestDir {
            path: std::env::temp_dir().join(name),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database file the tests open in this directory.
    pub fn database(&self) -> PathBuf {
        self.path.join("auth.db")
    }

    pub async fn sqlite_store(&self) -> SqliteAuthStore {
        SqliteAuthStore::open(&self.database())
            .await
            .expect("cannot open the SQLite auth store")
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        // Best effort: a directory left behind in the temp dir harms no later test.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// One `#[tokio::test]` per case and store: `postgres::<case>` and `sqlite::<case>`, each
/// calling `crate::conformance::<case>(store)`.
macro_rules! conformance_tests {
    ($($case:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let store = crate::backends::postgres_store().await;
                    crate::conformance::$case(store).await;
                }
            )*
        }

        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = crate::backends::TestDir::new();
                    crate::conformance::$case(dir.sqlite_store().await).await;
                }
            )*
        }
    };
}

pub(crate) use conformance_tests;
