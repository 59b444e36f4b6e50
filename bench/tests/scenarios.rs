//! A tiny run of every scenario against the embedded single-process server: a check of
//! correctness (nothing lost, duplicated or out of order; everyone caught up), not of speed.

use chat_bench::{Cli, Report};
use clap::Parser;

async fn run(args: &[&str]) -> Report {
    let mut argv = vec!["chat-bench", "--embedded", "--max-run-secs", "60"];
    argv.extend_from_slice(args);
    let report = chat_bench::run(Cli::parse_from(argv))
        .await
        .expect("the scenario runs");
    assert!(report.passed, "{}", report.text());
    report
}

fn zero(report: &Report, checks: &[&str]) {
    for name in checks {
        assert_eq!(
            report.check_value(name),
            Some(0),
            "{name}: {}",
            report.text()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_delivers_everything_once_in_order() {
    let report = run(&[
        "fanout",
        "--groups",
        "2",
        "--members",
        "4",
        "--rate",
        "20",
        "--duration",
        "1.5",
        "--drain",
        "10",
    ])
    .await;
    zero(
        &report,
        &[
            "lost",
            "duplicated",
            "out of order",
            "unacknowledged",
            "errors",
        ],
    );
    // 2 groups × 4 members × 30 messages, each to the 3 other members.
    assert_eq!(report.figure_value("acknowledged"), Some(240.0));
    assert_eq!(report.figure_value("delivered"), Some(720.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_are_all_acknowledged_once() {
    let report = run(&[
        "send",
        "--senders",
        "6",
        "--per-group",
        "2",
        "--rate",
        "120",
        "--duration",
        "1",
        "--drain",
        "10",
    ])
    .await;
    zero(
        &report,
        &[
            "unacknowledged",
            "duplicate acks",
            "lost",
            "duplicated",
            "out of order",
        ],
    );
    assert_eq!(report.figure_value("acknowledged"), Some(120.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_clients_catch_up_on_everything() {
    let report = run(&[
        "reconnect",
        "--groups",
        "2",
        "--members",
        "3",
        "--messages",
        "15",
        "--timeout",
        "20",
    ])
    .await;
    zero(
        &report,
        &[
            "clients behind",
            "missing",
            "duplicated",
            "out of order",
            "errors",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_all_open() {
    let report = run(&[
        "idle",
        "--connections",
        "40",
        "--per-user",
        "10",
        "--hold",
        "0.5",
        "--gateway-pid",
        &std::process::id().to_string(),
    ])
    .await;
    zero(&report, &["failed connections"]);
    assert_eq!(report.figure_value("connections open"), Some(40.0));
    assert!(report.figure_value("gateway memory/connection").is_some());
}

#[tokio::test]
async fn targets_off_loopback_are_refused() {
    for target in [
        "http://10.1.2.3:3000",
        "http://example.com",
        "http://localhost:3000",
    ] {
        let cli = Cli::parse_from(["chat-bench", "--gateway", target, "idle"]);
        let error = chat_bench::run(cli).await.expect_err(target);
        assert!(
            format!("{error:#}").contains("127.0.0"),
            "{target}: {error:#}"
        );
    }
}
