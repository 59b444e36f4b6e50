//! A scenario's report: its parameters, figures, latency percentiles and correctness checks,
//! printed as text or serialised as JSON.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::latency::Summary;

#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

/// A count that must come out as expected (zero losses, everyone caught up…).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub value: u64,
    pub expected: u64,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencyLine {
    pub name: String,
    #[serde(flatten)]
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    pub gateways: Vec<String>,
    pub parameters: Value,
    pub figures: Vec<Figure>,
    pub latencies: Vec<LatencyLine>,
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
    pub passed: bool,
}

impl Report {
    pub fn new(scenario: &str, gateways: Vec<String>, parameters: Value) -> Self {
        Self {
            scenario: scenario.to_owned(),
            gateways,
            parameters,
            figures: Vec::new(),
            latencies: Vec::new(),
            checks: Vec::new(),
            notes: Vec::new(),
            passed: true,
        }
    }

    pub fn figure(&mut self, name: &str, value: f64, unit: &str) {
        self.figures.push(Figure {
            name: name.to_owned(),
            value,
            unit: unit.to_owned(),
        });
    }

    pub fn latency(&mut self, name: &str, summary: Summary) {
        self.latencies.push(LatencyLine {
            name: name.to_owned(),
            summary,
        });
    }

    /// A check that fails the report when `value` is not `expected`.
    pub fn check(&mut self, name: &str, value: u64, expected: u64) {
        let ok = value == expected;
        self.passed &= ok;
        self.checks.push(Check {
            name: name.to_owned(),
            value,
            expected,
            ok,
        });
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn figure_value(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value)
    }

    pub fn check_value(&self, name: &str) -> Option<u64> {
        self.checks.iter().find(|c| c.name == name).map(|c| c.value)
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} against {}",
            self.scenario,
            self.gateways.join(", ")
        );
        let _ = writeln!(out, "  parameters: {}", self.parameters);
        for figure in &self.figures {
            let _ = writeln!(
                out,
                "  {:<28} {:>14} {}",
                figure.name,
                format_number(figure.value),
                figure.unit
            );
        }
        for line in &self.latencies {
            let s = &line.summary;
            let _ = writeln!(
                out,
                "  {:<28} p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2} ms  (n={})",
                line.name, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms, s.count
            );
        }
        for check in &self.checks {
            let mark = if check.ok { "ok" } else { "FAILED" };
            let _ = writeln!(
                out,
                "  check {:<22} {:>14} (expected {}) {mark}",
                check.name, check.value, check.expected
            );
        }
        for note in &self.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        let _ = writeln!(out, "  {}", if self.passed { "PASSED" } else { "FAILED" });
        out
    }
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}
