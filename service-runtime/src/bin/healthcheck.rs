//! `healthcheck`: the container health probe. Asks a gRPC server's `grpc.health.v1` or GETs an
//! HTTP URL, and exits 0 when it answers healthy, 1 otherwise — for Docker Compose, where no
//! `grpc_health_probe` or `curl` is in the image.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Exits 0 when the target answers healthy, 1 otherwise (the reason goes to stderr).
#[derive(Debug, clap::Parser)]
#[command(name = "healthcheck", version, about)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["grpc", "http"])))]
struct Probe {
    /// gRPC server to ask `grpc.health.v1.Health/Check`, e.g. `127.0.0.1:50051`.
    #[arg(long, value_name = "ADDR")]
    grpc: Option<String>,
    /// Service name to ask about; the empty default means the server as a whole.
    #[arg(long, default_value = "", requires = "grpc")]
    service: String,
    /// `http://` URL to GET; any 2xx status is healthy.
    #[arg(long, value_name = "URL")]
    http: Option<String>,
    /// Seconds to wait for the whole check.
    #[arg(long, default_value_t = 3)]
    timeout: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let probe = Probe::parse();
    let check = async {
        match (&probe.grpc, &probe.http) {
            (Some(address), _) => check_grpc(address, &probe.service).await,
            (None, Some(url)) => check_http(url).await,
            (None, None) => bail!("give --grpc or --http"),
        }
    };
    let outcome = match tokio::time::timeout(Duration::from_secs(probe.timeout), check).await {
        Ok(outcome) => outcome,
        Err(_) => Err(anyhow::anyhow!("no answer within {}s", probe.timeout)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("unhealthy: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn check_grpc(address: &str, service: &str) -> anyhow::Result<()> {
    let uri = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let channel = tonic::transport::Endpoint::from_shared(uri)
        .context("not a valid gRPC address")?
        .connect()
        .await
        .with_context(|| format!("cannot connect to {address}"))?;
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .context("health check refused")?
        .into_inner()
        .status();
    if status != ServingStatus::Serving {
        bail!("{address} reports {}", status.as_str_name());
    }
    Ok(())
}

/// One HTTP/1.1 GET over a plain TCP connection: enough for a health endpoint on loopback.
async fn check_http(url: &str) -> anyhow::Result<()> {
    let rest = url
        .strip_prefix("http://")
        .context("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    let address = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut stream = TcpStream::connect(&address)
        .await
        .with_context(|| format!("cannot connect to {address}"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: healthcheck\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    // The status line is all that matters; a health body is short, but cap it anyway.
    let mut head = Vec::with_capacity(256);
    stream.take(4096).read_to_end(&mut head).await?;
    let head = String::from_utf8_lossy(&head);
    let status_line = head.lines().next().unwrap_or_default();
    let code: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP response: {status_line:?}"))?;
    if !(200..300).contains(&code) {
        bail!("GET {url} answered {status_line}");
    }
    Ok(())
}
