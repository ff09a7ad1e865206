//! The example configuration talks to `gateway sandbox` as it starts: the README tells users to
//! run the two together, and the example named another client (`gateway`) and a supplier the
//! sandbox does not have, so the first `serve` failed with 401 invalid_client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use gateway_sandbox::{Sandbox, SandboxOptions};
use gateway_server::config::Config;

#[tokio::test]
async fn the_example_configuration_gets_a_token_and_finds_its_supplier_in_gateway_sandbox() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    // What `gateway sandbox` seeds when started without --no-demo.
    gateway_sandbox::demo::seed_demo(&sandbox, 0).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../gateway.example.toml");
    let mut config = Config::load(Path::new(path), Vec::new()).unwrap();
    config.coupa.base_url = sandbox.base_url();
    let client =
        adapter_coupa::CoupaClient::new(gateway_server::coupa_link::client_config(&config.coupa))
            .unwrap();
    let acme = config.partner("acme").unwrap();
    let number = acme
        .coupa_supplier
        .as_ref()
        .and_then(|s| s.number.clone())
        .expect("the example names its supplier by number");
    let found = client.supplier_by_number(&number).await;
    assert!(found.is_ok(), "{found:?}");
}
