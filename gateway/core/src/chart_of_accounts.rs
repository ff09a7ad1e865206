//! An invoice's chart of accounts, which Coupa requires on every invoice (`account-type`, by
//! name: `US COA`; coupa-facts §2) and the gateway's readers carry in one place only: Coupa's
//! CSV invoice import names it in its `Chart of Accounts*` column, which the CSV reader keeps
//! in `extensions.csv` by its name (the model has no field for it, and CANONICAL.md none).
//!
//! So the one rule lives here: the Coupa delivery sends it as the invoice's `account-type`
//! (before `[coupa] account_type`, the default for invoices that name none), and the X12 and
//! cXML writers, which have no element for it, name it among what they leave out
//! ([`LEFT_OUT`]), so `gateway convert` warns instead of dropping it without a word.

use gateway_model::Extensions;

/// The column of Coupa's invoice import that names the chart of accounts, as the CSV reader
/// keeps it in `extensions.csv` (the header's `*` marking a required column dropped).
pub const COLUMN: &str = "Chart of Accounts";

/// The canonical path of the chart of accounts, as a left-out warning names it.
pub const PATH: &str = "$.extensions.csv[\"Chart of Accounts\"]";

/// Why a writer without a place for it leaves the chart of accounts out.
pub const LEFT_OUT: &str = "the chart of accounts (Coupa's account-type, from the Coupa CSV's Chart of Accounts column) has no element in this format, so it is not written";

/// The chart of accounts `extensions` name (trimmed; `None` when absent or blank).
pub fn chart_of_accounts(extensions: &Extensions) -> Option<&str> {
    extensions
        .get("csv")?
        .get(COLUMN)?
        .as_str()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_from_the_csv_extensions_by_its_column() {
        let mut e = Extensions::new();
        assert_eq!(chart_of_accounts(&e), None);
        e.insert(
            "csv".into(),
            serde_json::json!({"Chart of Accounts": " US COA "}),
        );
        assert_eq!(chart_of_accounts(&e), Some("US COA"));
        e.insert("csv".into(), serde_json::json!({"Chart of Accounts": "  "}));
        assert_eq!(chart_of_accounts(&e), None);
    }
}
