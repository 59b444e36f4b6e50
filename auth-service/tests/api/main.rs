//! Integration tests of the auth service: each test serves it on a random port over a fresh
//! Postgres database and, once more, over a fresh SQLite file.

mod accounts;
mod health;
mod helpers;
mod login;
mod migrations;
mod pending;
mod platform_command;
mod register;
mod sessions;
mod tokens;
mod users;
