//! The process's own memory, CPU, threads and file descriptors, as the standard Prometheus
//! `process_*` series, so an operator can alert on a gateway that grows or runs out of file
//! descriptors with the dashboards they already use for other services. Read from `/proc` at
//! each scrape; where there is no `/proc` (not Linux), nothing is rendered.

use std::fmt::Write;
use std::path::Path;

/// Clock ticks per second in `/proc/<pid>/stat`: Linux's `USER_HZ`, fixed at 100 for user
/// space on every architecture the gateway is built for (the kernel's own tick rate may differ).
const USER_HZ: f64 = 100.0;

/// One reading of the process.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessStats {
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub threads: u64,
    pub open_fds: u64,
    /// The soft limit on open files; `None` when unlimited.
    pub max_fds: Option<u64>,
    /// User and system CPU time since the process started.
    pub cpu_seconds: f64,
    /// When the process started, in seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

/// Reads the running process; `None` where `/proc/self` cannot be read.
pub fn read() -> Option<ProcessStats> {
    read_from(Path::new("/proc/self"))
}

/// Reads process `pid` (a child the caller started, as the soak test reads `gateway serve`);
/// `None` where its `/proc` entry cannot be read.
pub fn read_pid(pid: u32) -> Option<ProcessStats> {
    read_from(&Path::new("/proc").join(pid.to_string()))
}

fn read_from(proc_dir: &Path) -> Option<ProcessStats> {
    let status = std::fs::read_to_string(proc_dir.join("status")).ok()?;
    let kib = |key: &str| status_value(&status, key).map(|v| v * 1024);
    let mut stats = ProcessStats {
        resident_bytes: kib("VmRSS:")?,
        virtual_bytes: kib("VmSize:")?,
        threads: status_value(&status, "Threads:")?,
        open_fds: std::fs::read_dir(proc_dir.join("fd")).ok()?.count() as u64,
        max_fds: std::fs::read_to_string(proc_dir.join("limits"))
            .ok()
            .and_then(|l| max_open_files(&l)),
        ..ProcessStats::default()
    };
    let stat = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
    let (ticks, started_ticks) = cpu_and_start_ticks(&stat)?;
    stats.cpu_seconds = ticks as f64 / USER_HZ;
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| boot_time(&s));
    if let Some(boot) = boot {
        stats.start_time_seconds = boot as f64 + started_ticks as f64 / USER_HZ;
    }
    Some(stats)
}

/// The number after `key` in `/proc/self/status` (`VmRSS:   52620 kB` → 52620).
fn status_value(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The soft limit of `Max open files` in `/proc/self/limits`; `None` when unlimited.
fn max_open_files(limits: &str) -> Option<u64> {
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// User + system CPU ticks and the start time in ticks since boot, from `/proc/self/stat`.
/// The command name (field 2) is in parentheses and may hold spaces and parentheses itself,
/// so the fields are counted from after its last `)`: there, field 3 is the first.
fn cpu_and_start_ticks(stat: &str) -> Option<(u64, u64)> {
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some((field(14)? + field(15)?, field(22)?))
}

/// Boot time (`btime`) from `/proc/stat`, in seconds since the Unix epoch.
fn boot_time(stat: &str) -> Option<u64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// Appends the `process_*` series to `out` (nothing where the process cannot be read).
pub fn render(out: &mut String) {
    let Some(s) = read() else {
        return;
    };
    let mut rows = vec![
        (
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            s.resident_bytes.to_string(),
        ),
        (
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            s.virtual_bytes.to_string(),
        ),
        (
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            format!("{:.2}", s.cpu_seconds),
        ),
        (
            "process_threads",
            "gauge",
            "Number of OS threads in the process.",
            s.threads.to_string(),
        ),
        (
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            s.open_fds.to_string(),
        ),
    ];
    if let Some(max) = s.max_fds {
        rows.push((
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            max.to_string(),
        ));
    }
    if s.start_time_seconds > 0.0 {
        rows.push((
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            format!("{:.2}", s.start_time_seconds),
        ));
    }
    for (name, kind, help, value) in rows {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name} {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_are_read_from_procs_formats() {
        let status = "Name:\tgateway\nVmSize:\t 2109856 kB\nVmRSS:\t   49860 kB\nThreads:\t34\n";
        assert_eq!(status_value(status, "VmRSS:"), Some(49_860));
        assert_eq!(status_value(status, "Threads:"), Some(34));
        assert_eq!(status_value(status, "VmSwap:"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 1048576              files\n";
        assert_eq!(max_open_files(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(max_open_files(unlimited), None);
        // A command name with a space and a parenthesis of its own.
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 250 75 0 0 20 0 34 0 \
                    123456 2109856000 12465 18446744073709551615";
        assert_eq!(cpu_and_start_ticks(stat), Some((325, 123_456)));
        assert_eq!(
            boot_time("cpu  1 2 3\nbtime 1764900000\nprocesses 9\n"),
            Some(1_764_900_000)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_read_and_rendered() {
        let s = read().expect("/proc/self is readable on Linux");
        let by_pid = read_pid(std::process::id()).expect("this process by its pid");
        assert_eq!(by_pid.start_time_seconds, s.start_time_seconds);
        assert!(read_pid(u32::MAX).is_none(), "no such process");
        assert!(
            s.resident_bytes > 0 && s.virtual_bytes >= s.resident_bytes,
            "{s:?}"
        );
        assert!(s.threads >= 1 && s.open_fds >= 3, "{s:?}");
        if let Some(max) = s.max_fds {
            assert!(max >= s.open_fds, "{s:?}");
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        assert!(
            s.start_time_seconds > now - 86_400.0 && s.start_time_seconds <= now + 5.0,
            "started at {} (now {now})",
            s.start_time_seconds
        );
        let mut text = String::new();
        render(&mut text);
        assert!(
            text.contains("# TYPE process_resident_memory_bytes gauge\n"),
            "{text}"
        );
        assert!(text.contains("\nprocess_open_fds "), "{text}");
        assert!(
            text.contains("# TYPE process_cpu_seconds_total counter\n"),
            "{text}"
        );
    }
}
