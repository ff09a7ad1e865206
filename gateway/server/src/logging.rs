//! Tracing setup: human-readable lines on stderr, `RUST_LOG` to filter (default `info`),
//! `GATEWAY_LOG_FORMAT=json` for JSON lines. Spans carry `doc_id`, `partner`, `adapter`.

/// Installs the global subscriber once; later calls do nothing.
pub fn init(default_level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},lapin=warn,hyper=warn")));
    let json = std::env::var("GATEWAY_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Colours only on a terminal: `serve 2> serve.log` wrote escape codes into the file.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
