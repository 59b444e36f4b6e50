//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds the migration
//! directories at compile time, and Cargo would not otherwise notice a new file in them.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations-sqlite");
}
