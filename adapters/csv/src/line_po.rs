//! The PO each invoice line bills. The CSV layouts write a PO number on every line row (the
//! Coupa import's `PO Number`, a partner's column mapped to `po_number` or
//! `lines.po_number`); the model holds the invoice's PO (`po_number`) and, on a line billing
//! another one, the line's own (`lines[].po_number`).
//!
//! Reading: the invoice's PO is chosen as before (the Coupa `Invoice` record's, else the first
//! line's that names one; a partner's `po_number` column on the document's first row). A line
//! whose cell names another PO gets it as its `po_number`; one naming the invoice's gets none.
//!
//! A blank line cell (the Coupa import's `PO Number` on an `Invoice Line`, a partner's
//! `lines.po_number`) says, in these layouts, that the line bills no PO. Beside lines that
//! name one, that cannot be carried: in the model, as in cXML, X12 and Coupa, a line without
//! a PO of its own bills the invoice's, so the same file would mean one thing read as CSV and
//! another once converted. Such an invoice is refused, each blank cell located, rather than
//! taken with the line quietly moved onto the invoice's PO (or, as this reader once did, kept
//! blank for CSV alone). The sender writes the PO the line bills, or sends the lines billing
//! none on an invoice of their own. A blank cell where no line names a PO is no such line: the
//! invoice's PO (from its `Invoice` record or `po_number` column), if any, is the lines'. A
//! blank `po_number` cell (a document column, which repeats nothing) is the invoice's PO too.
//!
//! Writing: a line's cell is its own `po_number`, else the invoice's ([`cell`]), never blank
//! while the invoice has a PO: what the model says of the line, which every format agrees on.

use gateway_core::Reject;
use gateway_model::{Invoice, InvoiceLine};

/// What one invoice's lines have said so far about their POs.
#[derive(Debug, Default)]
pub struct LinePos {
    /// A line named a PO.
    named: bool,
    /// Where the blank cells are of the lines read while no line had named a PO yet: they are
    /// refused if one does.
    blank: Vec<String>,
}

impl LinePos {
    /// Starts on the next invoice.
    pub fn reset(&mut self) {
        self.named = false;
        self.blank.clear();
    }

    /// Takes the PO cell (`""` when blank) of the invoice's last line, at `place` (its row and
    /// column, made only for a blank cell). `adopt`: when the invoice has no PO yet, the first
    /// line naming one gives it its PO. A blank cell beside lines naming a PO, on an invoice
    /// that has one, is a problem added to `problems` (see the module docs).
    pub fn attach(
        &mut self,
        inv: &mut Invoice,
        cell: &str,
        adopt: bool,
        place: impl FnOnce() -> String,
        problems: &mut Vec<Reject>,
    ) {
        let Some(last) = inv.lines.len().checked_sub(1) else {
            return;
        };
        if cell.is_empty() {
            if !self.named {
                self.blank.push(place());
            } else if let Some(po) = inv.po_number.as_deref() {
                problems.push(blank_refused(place(), po));
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
            if let Some(po) = inv.po_number.as_deref() {
                problems.extend(blank.into_iter().map(|at| blank_refused(at, po)));
            }
        }
    }
}

/// The refusal of a blank PO cell at `place` on a line of an invoice whose PO is `po`.
fn blank_refused(place: String, po: &str) -> Reject {
    Reject::new(
        place,
        format!(
            "blank, while other lines of this invoice name a PO: a line billing no PO cannot be \
             carried, as a line without a PO bills the invoice's ({po:?}) once converted (in \
             cXML, X12 and Coupa as in the canonical document); write the PO this line bills \
             (the invoice's {po:?} if it is that), or send the lines billing no PO on an \
             invoice of their own"
        ),
    )
}

/// The PO cell of line `l` of `inv`: its own PO, else the invoice's; `None` when blank (the
/// invoice has no PO). A mark an older reading left in the line's `extensions.csv`
/// (`"PO Number": ""`, a blank kept for CSV alone) is not followed: the line bills the
/// invoice's PO in every other format, and is written so here too.
pub fn cell<'a>(inv: &'a Invoice, l: &'a InvoiceLine) -> Option<&'a str> {
    l.po_number.as_deref().or(inv.po_number.as_deref())
}

/// The PO line `l` bills when it is not the invoice's (as [`cell`] writes it).
pub fn own<'a>(inv: &'a Invoice, l: &'a InvoiceLine) -> Option<&'a str> {
    l.po_number
        .as_deref()
        .filter(|o| Some(*o) != inv.po_number.as_deref())
}

/// True when a reader, taking the invoice's PO from the first line naming one, would take
/// another than `inv.po_number` from lines written with [`cell`].
pub fn first_named_differs(inv: &Invoice) -> bool {
    let first = inv.lines.iter().find_map(|l| cell(inv, l));
    inv.po_number.is_some() && first != inv.po_number.as_deref()
}
