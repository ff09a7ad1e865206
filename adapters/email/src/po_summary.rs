//! The readable part of a PO mail: its subject and the text and HTML summaries of the order.
//!
//! A supplier's people read the mail, not the attachment: an 850 with BEG01 `01` or a cXML
//! `type="delete"` is a cancellation only to a translator. So what the message does to the
//! order (the canonical `purpose`) is said in words in the subject and first thing in both
//! bodies: a cancellation must not read like an order to ship, nor a change like a second
//! order.
//!
//! For the same reason the bodies carry every fact a supplier needs to act on the order
//! without opening the attachment: where the goods go (the ship-to's name and full address,
//! the person receiving them), on what terms (shipping terms, payment terms in words) and by
//! when (each line's need-by date). A fact the order does not have is not written: no label
//! with nothing after it.

use std::fmt::Write as _;

use gateway_model::{Address, OrderLine, OrderPurpose, PaymentTerms, PurchaseOrder};
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

/// The PO total the bodies show: [`PurchaseOrder::shown_total`], the order's own, else the sum
/// of its lines' amounts (`None` when a line has none); the cXML writer's `Total` is the same
/// figure, so the mail and its attachment agree.
pub fn total(po: &PurchaseOrder) -> Option<Decimal> {
    po.shown_total()
}

/// How both bodies name a line's supplier auxiliary part id: cXML's name for it, which a
/// supplier's people know from their punch-out catalog.
const AUXILIARY_LABEL: &str = "Auxiliary part ID";

/// The supplier's auxiliary part id of a line (a punch-out item's key), from whichever
/// format's form the line keeps it in ([`gateway_core::supplier_part_auxiliary_id`]).
fn auxiliary_part_id(l: &OrderLine) -> Option<&str> {
    gateway_core::supplier_part_auxiliary_id(&l.extensions).map(|(_, id)| id)
}

/// One fact of the order for both bodies: its label and its value, one or more lines (an
/// address is several).
struct Fact {
    label: &'static str,
    lines: Vec<String>,
}

/// `s` on one line: its lines trimmed and joined with `, ` (an attention of several lines, as a
/// cXML `DeliverTo` list gives them; a street given with a line break). Empty when `s` has
/// nothing but blanks.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A postal address as the lines a label goes on: the street lines, then city, region and
/// postal code (`München, BY 80331`), then the country. Parts the address lacks are left out,
/// so an address of only a city is one line.
fn address_lines(a: &Address) -> Vec<String> {
    let mut out: Vec<String> = a.lines.iter().map(|l| one_line(l)).collect();
    let part = |v: Option<&str>| v.map(one_line).filter(|v| !v.is_empty());
    let place = [part(a.city.as_deref()), part(a.region.as_deref())]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let place = match part(a.postal_code.as_deref()) {
        Some(code) if place.is_empty() => code,
        Some(code) => format!("{place} {code}"),
        None => place,
    };
    out.push(place);
    out.extend(part(a.country.as_deref()));
    out.retain(|l| !l.is_empty());
    out
}

/// `n day` or `n days`.
fn days(n: u32) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

/// The payment terms in words: the terms' description as the buyer's system names them
/// (Coupa's payment term code, `2/10 Net 45`) and, when the order gives them as numbers, what
/// they say (`2% discount if paid within 10 days, net 45 days`), in brackets after the
/// description when there is one. Days are not read out of the description: its words are
/// written as they are. `None` when the terms say nothing.
fn payment_terms_words(t: &PaymentTerms) -> Option<String> {
    let description = t
        .description
        .as_deref()
        .map(one_line)
        .filter(|d| !d.is_empty());
    let discount = match (t.discount_percent, t.discount_days) {
        (Some(p), Some(d)) => Some(format!(
            "{}% discount if paid within {}",
            p.normalize(),
            days(d)
        )),
        (Some(p), None) => Some(format!("{}% discount", p.normalize())),
        (None, Some(d)) => Some(format!("discount if paid within {}", days(d))),
        (None, None) => None,
    };
    let net = t.net_days.map(|n| format!("net {}", days(n)));
    let numbers = [discount, net].into_iter().flatten().collect::<Vec<_>>();
    match (description, numbers.is_empty()) {
        (Some(d), true) => Some(d),
        (Some(d), false) => Some(format!("{d} ({})", numbers.join(", "))),
        (None, false) => {
            let words = numbers.join(", ");
            let mut chars = words.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
        }
        (None, true) => None,
    }
}

/// Where, how and on what terms the goods go, for both bodies: the ship-to (its name, then its
/// address: street lines, city, region, postal code, country), its attention line (the person
/// receiving the goods, Coupa's `ship-to-attention`), the shipping terms' code (Coupa's
/// `shipping-term`) and the payment terms in words ([`payment_terms_words`]). Each only when
/// the order has it. The attachment carries them too, but the supplier's people read the mail.
fn order_facts(po: &PurchaseOrder) -> Vec<Fact> {
    let ship_to = po.ship_to.as_ref();
    let mut ship_lines: Vec<String> = ship_to
        .and_then(|p| p.name.as_deref())
        .map(one_line)
        .into_iter()
        .collect();
    ship_lines.extend(
        ship_to
            .and_then(|p| p.address.as_ref())
            .map(address_lines)
            .unwrap_or_default(),
    );
    ship_lines.retain(|l| !l.is_empty());
    let single = |label, v: Option<String>| {
        v.filter(|v| !v.is_empty()).map(|v| Fact {
            label,
            lines: vec![v],
        })
    };
    let ship = (!ship_lines.is_empty()).then_some(Fact {
        label: "Ship to",
        lines: ship_lines,
    });
    [
        ship,
        single(
            "Attention",
            ship_to.and_then(|p| p.contact.as_deref()).map(one_line),
        ),
        single(
            "Shipping terms",
            po.shipping_terms
                .as_ref()
                .and_then(|t| t.code.as_deref())
                .map(one_line),
        ),
        single(
            "Payment terms",
            po.payment_terms.as_ref().and_then(payment_terms_words),
        ),
    ]
    .into_iter()
    .flatten()
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
    for fact in order_facts(po) {
        // Further lines of a value (an address) under its first, past the label.
        let indent = " ".repeat(fact.label.len() + 2);
        for (i, line) in fact.lines.iter().enumerate() {
            if i == 0 {
                let _ = writeln!(s, "{}: {line}", fact.label);
            } else {
                let _ = writeln!(s, "{indent}{line}");
            }
        }
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
            opt(l.extended_amount()),
            l.uom
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default(),
        );
        if let Some(a) = auxiliary_part_id(l) {
            let _ = writeln!(s, "     {AUXILIARY_LABEL}: {a}");
        }
        if let Some(d) = l.need_by {
            let _ = writeln!(s, "     Need by: {d}");
        }
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
    for fact in order_facts(po) {
        let lines = fact.lines.iter().map(|l| esc(l)).collect::<Vec<_>>();
        let _ = writeln!(s, "<p>{}: {}</p>", fact.label, lines.join("<br>"));
    }
    let _ = writeln!(s, "<p>{}:</p>", w.lines);
    // A need-by or auxiliary part id column only when a line has one: no heading over nothing.
    let need_by = po.lines.iter().any(|l| l.need_by.is_some());
    let auxiliary = po.lines.iter().any(|l| auxiliary_part_id(l).is_some());
    let _ = writeln!(
        s,
        "<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\n<tr><th>Line</th><th>Part</th>{}<th>Description</th><th>Quantity</th><th>Unit</th><th>Unit price</th><th>Amount</th>{}</tr>",
        if auxiliary {
            format!("<th>{AUXILIARY_LABEL}</th>")
        } else {
            String::new()
        },
        if need_by { "<th>Need by</th>" } else { "" }
    );
    for l in &po.lines {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td><td>{}</td><td>{} {currency}</td><td>{} {currency}</td>{}</tr>",
            l.line_number,
            esc(l.supplier_part_id.as_deref().unwrap_or("")),
            if auxiliary {
                format!("<td>{}</td>", esc(auxiliary_part_id(l).unwrap_or("")))
            } else {
                String::new()
            },
            esc(l.description.as_deref().unwrap_or("")),
            opt(l.quantity),
            esc(l.uom.as_deref().unwrap_or("")),
            opt(l.unit_price),
            opt(l.extended_amount()),
            if need_by {
                format!(
                    "<td>{}</td>",
                    l.need_by.map(|d| d.to_string()).unwrap_or_default()
                )
            } else {
                String::new()
            },
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
