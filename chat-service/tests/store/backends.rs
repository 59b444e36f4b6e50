//! Fresh, empty stores for one test each: a new Postgres database, or a SQLite file in a new
//! temporary directory. Both are removed when the test passes.

use std::path::PathBuf;

use chat_service::{PgChatStore, SqliteChatStore};
use service_runtime::postgres::{create_test_database, test_admin_url};
use sqlx::{ConnectOptions, Connection};

pub struct Postgres {
    pub store: PgChatStore,
    admin_url: String,
    database: String,
}

impl Postgres {
    /// No skipping: without Postgres these tests fail, saying so.
    pub async fn start() -> Self {
        let admin_url = test_admin_url();
        let url = create_test_database(&admin_url)
            .await
            .unwrap_or_else(|error| panic!("cannot create a test database: {error:#}"));
        let store = PgChatStore::connect(&url, 10)
            .await
            .unwrap_or_else(|error| panic!("cannot connect the chat store: {error:#}"));
        let name = url.rsplit('/').next().unwrap_or_default();
        let database = name.split('?').next().unwrap_or_default().to_owned();
        Postgres {
            store,
            admin_url,
            database,
        }
    }

    pub async fn remove(self) {
        drop(self.store);
        let options: sqlx::postgres::PgConnectOptions =
            self.admin_url.parse().expect("a valid admin URL");
        let mut admin = options.connect().await.expect("connect to Postgres");
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.database
        ))
        .execute(&mut admin)
        .await
        .expect("drop the test database");
        admin.close().await.ok();
    }
}

pub struct Sqlite {
    pub store: SqliteChatStore,
    dir: PathBuf,
}

impl Sqlite {
    pub async fn start() -> Self {
        let dir = fresh_dir();
        let store = SqliteChatStore::open(&dir.join("chat.db"))
            .await
            .unwrap_or_else(|error| panic!("cannot open the SQLite store: {error:#}"));
        Sqlite { store, dir }
    }

    pub async fn remove(self) {
        self.store.close().await;
        std::fs::remove_dir_all(&self.dir).expect("remove the test's directory");
    }
}

/// A directory of the test's own under the system's temporary directory (not yet created).
pub fn fresh_dir() -> PathBuf {
    std::env::temp_dir().join(format!("chat-store-test-{}", uuid::Uuid::new_v4().simple()))
}
