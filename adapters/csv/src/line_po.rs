//! The PO each invoice line bills. The CSV layouts write a PO number on every line row (the
//! Coupa import's `PO Number`, a partner's column mapped to `po_number` or
//! `lines.po_number`); the model holds the invoice's PO (`po_number`) and, on a line billing
//! another one, the line's own (`lines[].po_number`).
//!
//! Reading: the invoice's PO is chosen as before (the Coupa `Invoice` record's, else the first
//! line's that names one; a partner's `po_number` column on the document's first row). A line
//! whose cell names another PO gets it as its `po_number`; one naming the invoice's gets none.
//! A line whose cell is blank while another line of the invoice names a PO bills no PO, which
//! the model cannot say of one line (absent, a line bills the invoice's): the blank is kept
//! as `extensions.csv."PO Number": ""` on the line, so the CSV writers write it blank again.
//!
//! Writing: a line's cell is that blank when marked so (or another value kept there from an
//! older reading), else the line's `po_number`, else the invoice's ([`cell`]).

use gateway_model::{Invoice, InvoiceLine};

use crate::coupa_invoice::EXT;
use crate::header::normalize;

/// The key under a line's `extensions.csv` that keeps its PO cell when it was blank.
pub const COLUMN: &str = "PO Number";

/// What one invoice's lines have said so far about their POs.
#[derive(Debug, Default)]
pub struct LinePos {
    /// A line named a PO.
    named: bool,
    /// The lines (by index) whose cell was blank while no line had named a PO yet: they are
    /// marked if one does.
    blank: Vec<usize>,
}

impl LinePos {
    /// Starts on the next invoice.
    pub fn reset(&mut self) {
        self.named = false;
        self.blank.clear();
    }

    /// Takes the PO cell (`""` when blank) of the invoice's last line. `adopt`: when the
    /// invoice has no PO yet, the first line naming one gives it its PO.
    pub fn attach(&mut self, inv: &mut Invoice, cell: &str, adopt: bool) {
        let Some(last) = inv.lines.len().checked_sub(1) else {
            return;
        };
        if cell.is_empty() {
            if !self.named {
                self.blank.push(last);
            } else if inv.po_number.is_some()
                && let Some(l) = inv.lines.get_mut(last)
            {
                mark_blank(l);
            }
            return;
        }
        if inv.po_number.is_none() && adopt {
            inv.po_number = Some(cell.into());
        }
        let own = (inv.po_number.as_deref() != Some(cell)).then(|| cell.into());
        if let Some(l) = inv.lines.get_mut(last) {
            l.po_number = own;
        }
        if !self.named {
            self.named = true;
            let blank = std::mem::take(&mut self.blank);
            if inv.po_number.is_some() {
                for i in blank {
                    if let Some(l) = inv.lines.get_mut(i) {
                        mark_blank(l);
                    }
                }
            }
        }
    }
}

/// Keeps a blank PO cell in the line's `extensions.csv` (left as it is when `csv` holds
/// something other than an object).
fn mark_blank(l: &mut InvoiceLine) {
    let slot = l
        .extensions
        .entry(EXT.to_string())
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if let serde_json::Value::Object(m) = slot {
        m.insert(COLUMN.to_string(), serde_json::Value::String(String::new()));
    }
}

/// The PO cell a line keeps in `extensions.csv` (any spelling of `PO Number`): `Some("")` for
/// a blank one.
fn kept(l: &InvoiceLine) -> Option<&str> {
    let Some(serde_json::Value::Object(m)) = l.extensions.get(EXT) else {
        return None;
    };
    let want = normalize(COLUMN);
    m.iter()
        .find(|(k, _)| normalize(k) == want)
        .and_then(|(_, v)| v.as_str())
}

/// The PO cell of line `l` of `inv`: the one it keeps from a CSV source, else its own PO,
/// else the invoice's; `None` when blank.
pub fn cell<'a>(inv: &'a Invoice, l: &'a InvoiceLine) -> Option<&'a str> {
    match kept(l) {
        Some(k) => Some(k),
        None => l.po_number.as_deref().or(inv.po_number.as_deref()),
    }
    .filter(|c| !c.is_empty())
}

/// The PO line `l` bills when it is not the invoice's (as [`cell`] writes it).
pub fn own<'a>(inv: &'a Invoice, l: &'a InvoiceLine) -> Option<&'a str> {
    let own = match kept(l) {
        Some(k) => Some(k).filter(|k| !k.is_empty()),
        None => l.po_number.as_deref(),
    };
    own.filter(|o| Some(*o) != inv.po_number.as_deref())
}

/// True when a reader, taking the invoice's PO from the first line naming one, would take
/// another than `inv.po_number` from lines written with [`cell`].
pub fn first_named_differs(inv: &Invoice) -> bool {
    let first = inv.lines.iter().find_map(|l| cell(inv, l));
    inv.po_number.is_some() && first != inv.po_number.as_deref()
}
