//! Prints the gateway's OpenAPI document, as `GET /api/openapi.json` serves it, without starting
//! a server: `cargo run -q -p gateway --example openapi > openapi.json` (what
//! `scripts/check-openapi.sh` validates, and what a client generator can read).

fn main() -> Result<(), serde_json::Error> {
    println!("{}", gateway::openapi::document().to_pretty_json()?);
    Ok(())
}
