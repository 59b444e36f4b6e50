//! presence-service integration tests, in one binary to link once.

mod backends;
mod conformance;
mod grpc;
mod redis_keys;
