//! The committed JSON Schema must be the one the Rust types generate.

#[test]
fn committed_schema_is_current() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/canonical.schema.json"
    );
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap_or_default();
    let generated = gateway_model::json_schema();
    assert!(
        committed == generated,
        "schemas/canonical.schema.json is stale or missing: the model changed. Regenerate it with\n    \
         cargo run -- schema > schemas/canonical.schema.json\nand review the diff (the canonical \
         contract may only gain optional fields)."
    );
}

#[test]
fn schema_names_the_contract_fields() {
    let text = gateway_model::json_schema().to_string();
    for field in [
        "invoice_number",
        "invoice_date",
        "po_number",
        "order_date",
        "remit_to",
        "payment_terms",
        "unit_price",
        "po_line_number",
        "need_by",
        "tax_total",
        "extensions",
        "schema_version",
    ] {
        assert!(
            text.contains(&format!("\"{field}\"")),
            "schema lacks {field}"
        );
    }
}
