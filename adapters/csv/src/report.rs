//! The reject report written beside a rejected file, for the person who fixes it.

use gateway_core::Reject;

/// A plain-text report of `rejects`: one line per problem with its row and column, grouped
/// by document. Empty input gives a one-line "nothing rejected" report.
pub fn reject_report(rejects: &[Reject]) -> String {
    if rejects.is_empty() {
        return "No rows were rejected.\n".to_string();
    }
    let mut docs: Vec<&str> = Vec::new();
    for r in rejects {
        let d = r.document.as_deref().unwrap_or("");
        if !docs.contains(&d) {
            docs.push(d);
        }
    }
    let named = docs.iter().filter(|d| !d.is_empty()).count();
    let mut out = format!(
        "{} problem(s); {} document(s) rejected. Other documents in the file were accepted.\n",
        rejects.len(),
        named
    );
    for d in docs {
        out.push('\n');
        if d.is_empty() {
            out.push_str("Not part of any document:\n");
        } else {
            out.push_str(&format!("Document {d}:\n"));
        }
        for r in rejects
            .iter()
            .filter(|r| r.document.as_deref().unwrap_or("") == d)
        {
            out.push_str(&format!("  {}: {}\n", r.location, r.message));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_document_with_locations() {
        let mut a = Reject::new("row 7, column \"Price\"", "\"abc\" (expected a decimal)");
        a.document = Some("INV-2".into());
        let b = Reject::new("row 9", "no header row");
        let text = reject_report(&[a, b]);
        assert!(
            text.starts_with("2 problem(s); 1 document(s) rejected"),
            "{text}"
        );
        assert!(text.contains("Document INV-2:\n  row 7, column \"Price\": \"abc\""));
        assert!(text.contains("Not part of any document:\n  row 9: no header row"));
        assert_eq!(reject_report(&[]), "No rows were rejected.\n");
    }
}
