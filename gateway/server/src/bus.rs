//! The gateway's bus topology and how the configured backend is opened: RabbitMQ when
//! `[bus] amqp_url` is set, else the embedded file-backed bus.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use gateway_broker::{EmbeddedBroker, RabbitBroker};
use gateway_core::{Broker, ConsumerSpec, Topology};

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
                .context("connecting to RabbitMQ ([bus] amqp_url); is it running? start it with `rabbitmq-server -detached`")?;
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
}
