//! This process's resident memory, read from /proc, for the examples and tests that report
//! or bound it (included with `#[path]`: examples share no crate of their own).

/// VmRSS in KiB; 0 where /proc has none.
pub fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
