//! The readable part of a PO mail: its subject and the text and HTML summaries of the order.
//!
//! A supplier's people read the mail, not the attachment: an 850 with BEG01 `01` or a cXML
//! `type="delete"` is a cancellation only to a translator. So what the message does to the
//! order (the canonical `purpose`) is said in words in the subject and first thing in both
//! bodies: a cancellation must not read like an order to ship, nor a change like a second
//! order.

use std::fmt::Write as _;

use gateway_model::{OrderLine, OrderPurpose, PurchaseOrder};
use rust_decimal::Decimal;

/// The words a mail uses for what its PO message does.
#[derive(Debug, Clone, Copy)]
struct Wording {
    /// Put before the PO number in the subject and the heading.
    title: &'static str,
    /// The first sentence of the body, when the message is not a plain new order.
    notice: Option<&'static str>,
    /// The heading of the lines.
    lines: &'static str,
    /// The label of the total.
    total: &'static str,
    /// What the attachment is.
    attached: &'static str,
}

/// The wording for `purpose`; no purpose reads as a new order (what the 850 and cXML writers
/// send for it too).
fn wording(purpose: Option<OrderPurpose>) -> Wording {
    match purpose {
        None | Some(OrderPurpose::New) => Wording {
            title: "Purchase order",
            notice: None,
            lines: "Lines",
            total: "Total",
            attached: "The purchase order is attached.",
        },
        Some(OrderPurpose::Update) => Wording {
            title: "Change to purchase order",
            notice: Some(
                "This purchase order is changed: it replaces the version sent before. Please check every line.",
            ),
            lines: "Lines as changed",
            total: "Total as changed",
            attached: "The changed purchase order is attached.",
        },
        Some(OrderPurpose::Cancel) => Wording {
            title: "Cancellation of purchase order",
            notice: Some("This purchase order is cancelled: do not ship it."),
            lines: "Cancelled lines",
            total: "Cancelled total",
            attached: "The cancellation is attached.",
        },
    }
}

/// `Purchase order PO-7781 (revision 2) from Globex`; `Change to purchase order ...` for an
/// update and `Cancellation of purchase order ...` for a cancellation, so the subject alone
/// tells the supplier what to do.
pub fn subject(po: &PurchaseOrder) -> String {
    let mut s = format!(
        "{} {}",
        wording(po.purpose).title,
        po.po_number.as_deref().unwrap_or("(no number)")
    );
    if let Some(v) = po.version.filter(|v| *v > 1) {
        let _ = write!(s, " (revision {v})");
    }
    if let Some(name) = po.buyer.as_ref().and_then(|b| b.name.as_deref()) {
        let _ = write!(s, " from {name}");
    }
    s
}

/// A line's amount: its own, else quantity × unit price.
fn line_amount(l: &OrderLine) -> Option<Decimal> {
    l.amount.or_else(|| match (l.quantity, l.unit_price) {
        (Some(q), Some(p)) => q.checked_mul(p),
        _ => None,
    })
}

/// The PO total: the document's, else the sum of line amounts (`None` when a line has none).
pub fn total(po: &PurchaseOrder) -> Option<Decimal> {
    if po.total.is_some() {
        return po.total;
    }
    po.lines
        .iter()
        .try_fold(Decimal::ZERO, |acc, l| acc.checked_add(line_amount(l)?))
}

/// Where and how the goods go, as `(label, value)` lines for both bodies: the ship-to's
/// name, its attention line (the person receiving the goods, Coupa's `ship-to-attention`;
/// several lines, as a cXML `DeliverTo` list gives them, joined on one) and the shipping
/// terms' code (Coupa's `shipping-term`). Each only when the order has it. The attachment
/// carries them too, but the supplier's people read the mail.
fn delivery(po: &PurchaseOrder) -> Vec<(&'static str, String)> {
    let ship_to = po.ship_to.as_ref();
    let one_line = |s: &str| {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    };
    [
        ("Ship to", ship_to.and_then(|p| p.name.as_deref())),
        ("Attention", ship_to.and_then(|p| p.contact.as_deref())),
        (
            "Shipping terms",
            po.shipping_terms.as_ref().and_then(|t| t.code.as_deref()),
        ),
    ]
    .into_iter()
    .filter_map(|(label, v)| Some((label, one_line(v?))).filter(|(_, v)| !v.is_empty()))
    .collect()
}

fn opt(d: Option<Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
}

/// The plain-text body: the subject, what the message does (for a change or a cancellation),
/// then the order's facts and lines.
pub fn text_body(po: &PurchaseOrder) -> String {
    let w = wording(po.purpose);
    let currency = po.currency.as_deref().unwrap_or("");
    let mut s = String::new();
    let _ = writeln!(s, "{}", subject(po));
    if let Some(n) = w.notice {
        let _ = writeln!(s, "{n}");
    }
    if let Some(d) = po.order_date {
        let _ = writeln!(s, "Order date: {d}");
    }
    for (label, value) in delivery(po) {
        let _ = writeln!(s, "{label}: {value}");
    }
    let _ = writeln!(s, "\n{}:", w.lines);
    for l in &po.lines {
        let _ = writeln!(
            s,
            "  {}. {} {} {} x {} {currency} = {} {currency}{}",
            l.line_number,
            l.supplier_part_id.as_deref().unwrap_or(""),
            l.description.as_deref().unwrap_or(""),
            opt(l.quantity),
            opt(l.unit_price),
            opt(line_amount(l)),
            l.uom
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default(),
        );
    }
    let _ = writeln!(s, "\n{}: {} {currency}", w.total, opt(total(po)));
    if let Some(c) = &po.comments {
        let _ = writeln!(s, "\n{c}");
    }
    let _ = writeln!(
        s,
        "\n{} Please reply to this mail with any question.",
        w.attached
    );
    s
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML body: the same facts as the text body, the lines as a table, what the message does
/// in bold above them; every value escaped.
pub fn html_body(po: &PurchaseOrder) -> String {
    let w = wording(po.purpose);
    let currency = esc(po.currency.as_deref().unwrap_or(""));
    let mut s = String::from("<!DOCTYPE html>\n<html><body>\n");
    let _ = writeln!(s, "<h2>{}</h2>", esc(&subject(po)));
    if let Some(n) = w.notice {
        let _ = writeln!(s, "<p><strong>{n}</strong></p>");
    }
    if let Some(d) = po.order_date {
        let _ = writeln!(s, "<p>Order date: {d}</p>");
    }
    for (label, value) in delivery(po) {
        let _ = writeln!(s, "<p>{label}: {}</p>", esc(&value));
    }
    let _ = writeln!(s, "<p>{}:</p>", w.lines);
    s.push_str("<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\n<tr><th>Line</th><th>Part</th><th>Description</th><th>Quantity</th><th>Unit</th><th>Unit price</th><th>Amount</th></tr>\n");
    for l in &po.lines {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {currency}</td><td>{} {currency}</td></tr>",
            l.line_number,
            esc(l.supplier_part_id.as_deref().unwrap_or("")),
            esc(l.description.as_deref().unwrap_or("")),
            opt(l.quantity),
            esc(l.uom.as_deref().unwrap_or("")),
            opt(l.unit_price),
            opt(line_amount(l)),
        );
    }
    let _ = writeln!(
        s,
        "</table>\n<p><b>{}: {} {currency}</b></p>",
        w.total,
        opt(total(po))
    );
    if let Some(c) = &po.comments {
        let _ = writeln!(s, "<p>{}</p>", esc(c));
    }
    let _ = writeln!(s, "<p>{}</p>\n</body></html>", w.attached);
    s
}
