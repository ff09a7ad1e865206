//! Runs the sandbox standalone: `cargo run -p gateway-sandbox --example sandbox -- 8600`.
//! (`gateway sandbox --port 8600` does the same from the main binary.)

#[tokio::main]
async fn main() -> Result<(), gateway_sandbox::SandboxError> {
    let port = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8600);
    gateway_sandbox::run_cli(gateway_sandbox::CliOptions {
        port,
        ..Default::default()
    })
    .await
}
