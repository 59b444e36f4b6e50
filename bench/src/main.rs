//! `chat-bench`: drives the native protocol at a loopback gateway and reports. See `--help`.

use anyhow::Context;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = chat_bench::Cli::parse();
    let json = cli.json;
    let json_out = cli.json_out.clone();
    let report = chat_bench::run(cli).await?;
    if let Some(path) = json_out {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text());
    }
    if !report.passed {
        std::process::exit(1);
    }
    Ok(())
}
