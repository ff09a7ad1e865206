//! The bus: RabbitMQ (lapin) and embedded backends with confirms, retries, dead letters and replay.
