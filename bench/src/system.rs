//! What the tool reads about processes from /proc: resident memory, and the open-file limit
//! that bounds how many sockets a process can hold.

use anyhow::Context;

/// Resident memory (VmRSS) of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    field_kib(&status, "VmRSS:").with_context(|| format!("no VmRSS in {path}"))
}

/// This process's resident memory, in KiB.
pub fn own_rss_kib() -> anyhow::Result<u64> {
    rss_kib(std::process::id())
}

fn field_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// This process's soft limit on open files, if /proc says.
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_memory_and_limits() {
        assert!(own_rss_kib().unwrap() > 0);
        assert!(open_files_limit().unwrap() > 0);
        assert_eq!(field_kib("VmRSS:\t  1234 kB\n", "VmRSS:"), Some(1234));
    }
}
