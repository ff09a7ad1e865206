//! What the service's integration tests share: a configuration on the embedded bus in a
//! temporary folder (no RabbitMQ, no Coupa), and the service started from it. Each test adds
//! its own `[http]` keys and partners.

use std::sync::Arc;

use gateway_server::codecs::Codecs;
use gateway_server::config::Config;
use gateway_server::service::{Parts, Running, start};

/// A configuration in `dir`: HTTP on a free port with `http` added to its section, the
/// embedded bus and the ledger in `dir`, a Coupa nobody listens on, then `rest` (partners).
pub fn config(dir: &std::path::Path, http: &str, rest: &str) -> Config {
    let d = dir.display();
    let text = format!(
        r#"
[http]
listen = "127.0.0.1:0"
{http}
[bus]
embedded_path = "{d}/bus.sqlite"
[ledger]
path = "{d}/ledger.sqlite"
[coupa]
base_url = "http://127.0.0.1:9"
client_id = "x"
client_secret = "y"
{rest}"#
    );
    Config::parse(&text, "test", std::iter::empty()).unwrap_or_else(|e| panic!("{e}"))
}

/// The service running on `config`, without Coupa.
pub async fn started(config: Config) -> Running {
    let bus = gateway_server::bus::open(&config.bus, gateway_server::bus::Role::Server)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (running, _) = start(Parts {
        config,
        codecs: Codecs::standard(),
        bus: Arc::clone(&bus),
        coupa: None,
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    running
}
