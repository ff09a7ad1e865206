//! The gateway's bus topology and how the configured backend is opened: RabbitMQ when
//! `[bus] amqp_url` is set, else the embedded file-backed bus.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use gateway_broker::{EmbeddedBroker, RabbitBroker};
use gateway_core::{Broker, BusError, ConsumerSpec, Topology};

use crate::config::BusConfig;

/// Delivers inbound invoices to Coupa.
pub const COUPA_INVOICES: &str = "coupa-invoices";
/// Sends Coupa purchase orders out to suppliers in their own format.
pub const SUPPLIER_ORDERS: &str = "supplier-orders";

/// Every consumer of the gateway, for operators (`gateway dlq --consumer`).
pub const CONSUMERS: [&str; 2] = [COUPA_INVOICES, SUPPLIER_ORDERS];

pub fn topology(cfg: &BusConfig) -> Topology {
    Topology {
        namespace: cfg.namespace.clone(),
        consumers: vec![
            ConsumerSpec {
                name: COUPA_INVOICES.into(),
                bindings: vec!["in.invoice.*".into()],
            },
            ConsumerSpec {
                name: SUPPLIER_ORDERS.into(),
                bindings: vec!["out.purchase_order.*".into()],
            },
        ],
        retry_tiers: cfg
            .retry_tiers_ms
            .iter()
            .map(|ms| Duration::from_millis(*ms))
            .collect(),
        delivery_limit: cfg.delivery_limit,
        prefetch: cfg.prefetch,
    }
}

/// Which process opens the bus: the server (owns the embedded file's in-flight leases) or an
/// operator command running beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Server,
    Operator,
}

/// Opens the configured bus and declares (or verifies) its topology. The server creates the
/// embedded bus file (and its folder) when there is none; an operator command opens only one
/// that exists, so a wrong path is an error rather than a new, empty bus that shows no dead
/// letters.
pub async fn open(cfg: &BusConfig, role: Role) -> anyhow::Result<Arc<dyn Broker>> {
    let topology = topology(cfg);
    match &cfg.amqp_url {
        Some(url) => {
            let broker = RabbitBroker::connect(url.expose(), topology)
                .await
                .map_err(|e| rabbit_failure(e, &cfg.namespace))?;
            Ok(Arc::new(broker))
        }
        None => {
            let path = &cfg.embedded_path;
            if role == Role::Operator && !path.is_file() {
                anyhow::bail!(
                    "no bus at {}: the gateway has not run with this configuration yet, or the \
                     path is wrong ([bus] embedded_path; {})",
                    path.display(),
                    crate::config::how_paths_resolve(path)
                );
            }
            let broker = match role {
                Role::Server => EmbeddedBroker::open(path, topology),
                Role::Operator => EmbeddedBroker::open_admin(path, topology),
            }
            .with_context(|| format!("opening the embedded bus at {}", path.display()))?;
            Ok(Arc::new(broker))
        }
    }
}

/// A failed start on RabbitMQ, in the setting's words. The broker's error carries the hint
/// that fits it (start RabbitMQ only when nothing accepted the connection; the credentials or
/// virtual host of the URL when it refused them); a topology that does not match what is
/// declared names the namespace, not the URL. Before, "is it running? start it" led them all,
/// a refused password and a queue declared with other arguments included.
fn rabbit_failure(e: BusError, namespace: &str) -> anyhow::Error {
    let setting = match &e {
        BusError::Topology(_) => {
            format!("declaring the bus topology on RabbitMQ ([bus] namespace \"{namespace}\")")
        }
        _ => "connecting to RabbitMQ ([bus] amqp_url)".to_string(),
    };
    anyhow::Error::new(e).context(setting)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_operator_opens_only_a_bus_that_exists_and_the_server_creates_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cfg = BusConfig {
            embedded_path: dir.path().join("var/bus.sqlite"),
            ..BusConfig::default()
        };
        let err = open(&cfg, Role::Operator)
            .await
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(
            err.starts_with(&format!("no bus at {}", cfg.embedded_path.display()))
                && err.contains("has not run with this configuration"),
            "{err}"
        );
        assert!(!dir.path().join("var").exists(), "nothing created");
        open(&cfg, Role::Server)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        open(&cfg, Role::Operator)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
    }
    /// `url` with its user name and password replaced by `login` (`user:password`).
    fn with_login(url: &str, login: &str) -> String {
        let rest = url.strip_prefix("amqp://").unwrap_or(url);
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = authority.rsplit('@').next().unwrap_or(authority);
        format!("amqp://{login}@{host}{path}")
    }

    /// `url` with its virtual host replaced by `vhost`.
    fn with_vhost(url: &str, vhost: &str) -> String {
        let rest = url.strip_prefix("amqp://").unwrap_or(url);
        let authority = rest.split('/').next().unwrap_or(rest);
        format!("amqp://{authority}/{vhost}")
    }

    /// What `gateway serve` and the `gateway dlq` commands say when the bus at `url` fails.
    async fn failure_opening(url: &str) -> String {
        let cfg = BusConfig {
            amqp_url: Some(gateway_core::Secret::new(url)),
            namespace: format!("t{}", uuid::Uuid::new_v4().simple()),
            ..BusConfig::default()
        };
        match open(&cfg, Role::Operator).await {
            Ok(_) => panic!("opened the bus at {url}"),
            Err(e) => format!("{e:#}"),
        }
    }

    /// QA: every failure to open RabbitMQ read "is it running? start it with
    /// `rabbitmq-server -detached`", a refused password included. Only a connection nothing
    /// accepted says so now; a refused login names the credentials of `[bus] amqp_url`
    /// (redacted), a refused virtual host names that.
    #[tokio::test]
    async fn each_rabbitmq_connect_failure_gets_the_hint_that_fits() {
        const START_IT: &str = "rabbitmq-server -detached";
        // A port nothing listens on: one the system just gave and took back.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap_or_else(|e| panic!("{e}"));
        let nothing = failure_opening(&format!("amqp://guest:guest@{closed}/%2f")).await;
        assert!(
            nothing.starts_with("connecting to RabbitMQ ([bus] amqp_url)")
                && nothing.contains("nothing accepted the connection")
                && nothing.contains(START_IT),
            "{nothing}"
        );

        let url = gateway_core::testkit::test_amqp_url();
        let probe = Topology {
            namespace: format!("probe{}", uuid::Uuid::new_v4().simple()),
            consumers: Vec::new(),
            retry_tiers: Vec::new(),
            delivery_limit: 5,
            prefetch: 1,
        };
        match RabbitBroker::connect(&url, probe).await {
            Ok(probe) => probe
                .delete_topology()
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("RabbitMQ is required under CI: {e}")
            }
            Err(e) => {
                eprintln!("SKIPPED the RabbitMQ half: {e} (start it: {START_IT})");
                return;
            }
        }
        let password = "f4-not-the-password";
        let refused = failure_opening(&with_login(&url, &format!("guest:{password}"))).await;
        assert!(
            refused.starts_with("connecting to RabbitMQ ([bus] amqp_url)")
                && refused.contains("refused the user name and password")
                && refused.contains("amqp://guest:***@")
                && !refused.contains(password)
                && !refused.contains(START_IT)
                && !refused.contains("is RabbitMQ running"),
            "{refused}"
        );
        let vhost = failure_opening(&with_vhost(&url, "f4-no-such-vhost")).await;
        assert!(
            vhost.starts_with("connecting to RabbitMQ ([bus] amqp_url)")
                && vhost.contains("refused the virtual host")
                && vhost.contains("f4-no-such-vhost")
                && !vhost.contains(START_IT),
            "{vhost}"
        );
    }
}
