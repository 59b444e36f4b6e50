//! Store tests of the auth service, in one binary to link once: the `AuthStore` conformance
//! suite on Postgres and on SQLite, and what only a SQLite file has to show.

mod backends;
mod conformance;
mod sqlite_file;
