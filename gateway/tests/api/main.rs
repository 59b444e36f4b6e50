//! End-to-end tests of the gateway: three real services, real Postgres and Redis, and gateway
//! replicas on random ports, driven over HTTP and WebSockets as a client would.

mod access;
mod catch_up;
mod helpers;
mod sending;
mod sessions;
mod socket_errors;
mod walkthrough;
