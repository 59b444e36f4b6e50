//! chat-service's integration tests: one binary, each test against a real server and database.

mod catch_up;
mod catch_up_recipients;
mod events;
mod groups;
mod health;
mod helpers;
mod history;
mod log;
mod messages;
mod migrations;
mod numbers;
mod receipts;
