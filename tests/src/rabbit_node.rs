//! A private RabbitMQ node for the tests that stop and start the broker (`rabbitmqctl
//! stop_app` / `start_app`). Stopping the shared broker would break every other test running
//! beside them, so each such test starts its own node: its own node name, AMQP port,
//! distribution port, data and log directories, no plugins. It uses the RabbitMQ installed on
//! the machine (the one `.ci/services.sh` installs) and is halted when dropped.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

/// A running private node. Dropping it halts the node.
#[derive(Debug)]
pub struct RabbitNode {
    name: String,
    port: u16,
    _dir: tempfile::TempDir,
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn describe(what: &str, out: std::io::Result<Output>) -> Result<(), String> {
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "{what} failed ({}): {}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout).trim(),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("{what} could not run: {e}")),
    }
}

impl RabbitNode {
    /// Starts a node and waits until it accepts AMQP connections. Errs with the reason when
    /// RabbitMQ is not installed or cannot run as this user (the Debian scripts need root or
    /// the `rabbitmq` user).
    pub fn start() -> Result<RabbitNode, String> {
        let dir = tempfile::Builder::new()
            .prefix("gw-rabbit-node")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        // The server runs as the `rabbitmq` user when started by root: let it write here.
        set_mode(dir.path(), 0o777)?;
        let port = free_port()?;
        let dist_port = free_port()?;
        let name = format!("gwtest{}x{}@localhost", std::process::id(), port);
        let conf = dir.path().join("rabbitmq.conf");
        let plugins = dir.path().join("enabled_plugins");
        std::fs::write(&conf, format!("listeners.tcp.local = 127.0.0.1:{port}\n"))
            .and_then(|()| std::fs::write(&plugins, "[].\n"))
            .map_err(|e| format!("node config: {e}"))?;
        set_mode(&conf, 0o644)?;
        set_mode(&plugins, 0o644)?;
        let node = RabbitNode {
            name,
            port,
            _dir: dir,
        };
        let base = node._dir.path();
        describe(
            "rabbitmq-server -detached",
            Command::new("rabbitmq-server")
                .arg("-detached")
                .env("RABBITMQ_NODENAME", &node.name)
                .env("RABBITMQ_NODE_PORT", port.to_string())
                .env("RABBITMQ_DIST_PORT", dist_port.to_string())
                .env("RABBITMQ_CONFIG_FILE", &conf)
                .env("RABBITMQ_ENABLED_PLUGINS_FILE", &plugins)
                .env("RABBITMQ_MNESIA_BASE", base.join("mnesia"))
                .env("RABBITMQ_LOG_BASE", base.join("log"))
                .output(),
        )?;
        node.await_startup()?;
        Ok(node)
    }

    /// Starts a node, or returns `None` after a loud message when that is impossible here.
    /// Under CI (`CI` set) it panics instead: the broker-restart scenarios must run there.
    pub fn start_or_skip(test: &str) -> Option<RabbitNode> {
        match RabbitNode::start() {
            Ok(node) => Some(node),
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{test}: a private RabbitMQ node is required under CI: {e}"
                );
                eprintln!(
                    "SKIPPED {test}: cannot start a private RabbitMQ node: {e} \
                     (needs rabbitmq-server and root or the rabbitmq user)"
                );
                None
            }
        }
    }

    /// The AMQP URL of this node.
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    fn ctl(&self, args: &[&str]) -> Result<(), String> {
        describe(
            &format!("rabbitmqctl {}", args.join(" ")),
            Command::new("rabbitmqctl")
                .arg("-n")
                .arg(&self.name)
                .args(args)
                .output(),
        )
    }

    /// Waits until the broker is booted. Right after `rabbitmq-server -detached` the node may
    /// not be registered yet, and `await_startup` fails at once for an unknown node: retry
    /// that for a bounded time.
    fn await_startup(&self) -> Result<(), String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        loop {
            match self.ctl(&["await_startup", "--timeout", "180"]) {
                Ok(()) => return Ok(()),
                Err(e) if std::time::Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(500)),
            }
        }
    }

    /// `rabbitmqctl stop_app`: the broker closes every connection and its listener; the
    /// Erlang node (and the queues' data on disk) stays.
    pub fn stop_app(&self) -> Result<(), String> {
        self.ctl(&["stop_app"])
    }

    /// Raises (`true`) or clears RabbitMQ's memory alarm by setting the memory high
    /// watermark to 0 or back to its default: while it is raised the broker blocks every
    /// connection that publishes, and confirms nothing.
    pub fn memory_alarm(&self, raised: bool) -> Result<(), String> {
        self.ctl(&[
            "set_vm_memory_high_watermark",
            if raised { "0" } else { "0.4" },
        ])
    }

    /// Raises (`true`) or clears RabbitMQ's disk alarm by asking for more free disk than any
    /// machine has, or for the default 50 MB again: publishers are blocked the same way.
    pub fn disk_alarm(&self, raised: bool) -> Result<(), String> {
        self.ctl(&[
            "set_disk_free_limit",
            if raised { "1000000GB" } else { "50MB" },
        ])
    }

    /// `rabbitmqctl start_app`, then waits until the broker is fully booted.
    pub fn start_app(&self) -> Result<(), String> {
        self.ctl(&["start_app"])?;
        self.await_startup()
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        // `stop` halts the Erlang node (data and logs go with the temp dir).
        if let Err(e) = self.ctl(&["stop"]) {
            eprintln!(
                "could not halt the private RabbitMQ node {}: {e}",
                self.name
            );
        }
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}
