//! Coupa's invoice import file, read side: the columns of `Invoice`, `Invoice Line` and
//! `Invoice Charge` records and how each becomes part of a canonical invoice.

use gateway_model::{Charge, ChargeKind, Invoice, InvoiceLine, InvoicePurpose, Tax, Text};

use crate::cells::Cells;
use crate::header::{Header, is_named};
use crate::parties::PartyCols;

/// Key under `extensions` for cells of columns the model does not hold.
pub const EXT: &str = "csv";

fn extras(h: &Header, used: impl Iterator<Item = usize>) -> Vec<usize> {
    let used: Vec<usize> = used.collect();
    (1..h.names.len())
        .filter(|i| !used.contains(i))
        .filter(|i| h.names.get(*i).is_some_and(|n| !n.is_empty()))
        .collect()
}

/// Columns of an `Invoice` record.
#[derive(Debug, Clone)]
pub struct InvoiceCols {
    pub number: Option<usize>,
    pub supplier: PartyCols,
    pub date: Option<usize>,
    pub currency: Option<usize>,
    pub terms: Option<usize>,
    pub po_number: Option<usize>,
    pub note: Option<usize>,
    pub control_total: Option<usize>,
    pub tax_amount: Option<usize>,
    pub tax_rate: Option<usize>,
    pub tax_code: Option<usize>,
    pub credit_note: Option<usize>,
    pub shipping: Option<usize>,
    pub handling: Option<usize>,
    pub misc: Option<usize>,
    pub ship_to: PartyCols,
    pub bill_to: PartyCols,
    pub remit_to: PartyCols,
    pub buyer: PartyCols,
    pub extras: Vec<usize>,
}

impl InvoiceCols {
    pub fn new(h: &Header) -> Self {
        let mut c = InvoiceCols {
            number: h.find(&["invoicenumber"]),
            supplier: PartyCols::find(h, &["supplier"]),
            date: h.find(&["invoicedate"]),
            currency: h.find(&["currency", "currencycode"]),
            terms: h.find(&["paymentterms", "paymentterm", "paymenttermscode"]),
            po_number: h.find(&["ponumber"]),
            note: h.find(&["suppliernote"]),
            control_total: h.find(&["invoicecontroltotal", "suppliertotal", "total"]),
            tax_amount: h.find(&["taxamount"]),
            tax_rate: h.find(&["taxrate"]),
            tax_code: h.find(&["taxcode"]),
            credit_note: h.find(&["iscreditnote", "creditnote"]),
            shipping: h.find(&["shippingamount"]),
            handling: h.find(&["handlingamount"]),
            misc: h.find(&["miscamount"]),
            ship_to: PartyCols::find(h, &["shiptoaddress", "shipto"]),
            bill_to: PartyCols::find(h, &["billtoaddress", "billto"]),
            remit_to: PartyCols::find(h, &["remittoaddress", "remitto"]),
            buyer: PartyCols::find(h, &["buyer"]),
            extras: Vec::new(),
        };
        let used = [
            c.number,
            c.date,
            c.currency,
            c.terms,
            c.po_number,
            c.note,
            c.control_total,
            c.tax_amount,
            c.tax_rate,
            c.tax_code,
            c.credit_note,
            c.shipping,
            c.handling,
            c.misc,
        ]
        .into_iter()
        .flatten()
        .chain(c.supplier.used())
        .chain(c.ship_to.used())
        .chain(c.bill_to.used())
        .chain(c.remit_to.used())
        .chain(c.buyer.used())
        .collect::<Vec<_>>();
        c.extras = extras(h, used.into_iter());
        c
    }

    /// The invoice header from an `Invoice` record; bad cells are left in `c.problems`.
    pub fn read(&self, c: &mut Cells<'_>) -> Invoice {
        let mut inv = Invoice {
            invoice_number: c.text(self.number),
            invoice_date: c.date(self.date),
            po_number: c.text(self.po_number),
            currency: c.text(self.currency),
            supplier: self.supplier.read(c),
            ship_to: self.ship_to.read(c),
            bill_to: self.bill_to.read(c),
            remit_to: self.remit_to.read(c),
            buyer: self.buyer.read(c),
            comments: c.text(self.note),
            total: c.decimal(self.control_total),
            ..Invoice::default()
        };
        if inv.invoice_number.is_none() {
            c.problem(
                self.number,
                "no invoice number (expected a value in \"Invoice Number\")",
            );
        }
        inv.purpose = c.boolean(self.credit_note).map(|credit| {
            if credit {
                InvoicePurpose::CreditMemo
            } else {
                InvoicePurpose::Standard
            }
        });
        if let Some(t) = c.text(self.terms) {
            inv.payment_terms = Some(gateway_model::PaymentTerms {
                description: Some(t),
                ..Default::default()
            });
        }
        let tax = Tax {
            amount: c.decimal(self.tax_amount),
            rate: c.decimal(self.tax_rate),
            category: c.text(self.tax_code),
            ..Tax::default()
        };
        if tax != Tax::default() {
            inv.taxes.push(tax);
        }
        for (col, kind) in [
            (self.shipping, ChargeKind::Shipping),
            (self.handling, ChargeKind::Handling),
            (self.misc, ChargeKind::Other),
        ] {
            if let Some(amount) = c.decimal(col) {
                inv.charges.push(charge(kind, amount, None));
            }
        }
        if let Some(x) = c.extras(&self.extras) {
            inv.extensions.insert(EXT.into(), x);
        }
        inv
    }
}

/// A charge; a negative misc amount is a discount of the opposite amount (the import has no
/// discount type, so this is how one is written).
fn charge(kind: ChargeKind, amount: rust_decimal::Decimal, description: Option<Text>) -> Charge {
    let (kind, amount) = if kind == ChargeKind::Other && amount.is_sign_negative() {
        (ChargeKind::Discount, -amount)
    } else {
        (kind, amount)
    };
    Charge {
        kind,
        amount: Some(amount),
        rate: None,
        category: None,
        description,
        code: None,
    }
}

/// Columns of an `Invoice Line` record.
#[derive(Debug, Clone)]
pub struct LineCols {
    pub invoice_number: Option<usize>,
    pub line_number: Option<usize>,
    pub description: Option<usize>,
    pub supplier_part: Option<usize>,
    pub buyer_part: Option<usize>,
    pub price: Option<usize>,
    pub quantity: Option<usize>,
    pub uom: Option<usize>,
    pub po_number: Option<usize>,
    pub po_line: Option<usize>,
    pub tax_amount: Option<usize>,
    pub tax_rate: Option<usize>,
    pub tax_code: Option<usize>,
    pub total: Option<usize>,
    pub extras: Vec<usize>,
}

impl LineCols {
    pub fn new(h: &Header) -> Self {
        let supplier = PartyCols::find(h, &["supplier"]);
        let mut c = LineCols {
            invoice_number: h.find(&["invoicenumber"]),
            line_number: h.find(&["linenumber", "linenum"]),
            description: h.find(&["description"]),
            supplier_part: h.find(&["supplierpartnumber", "supplierpartnum", "sourcepartnum"]),
            buyer_part: h.find(&["buyerpartnumber", "itemnumber"]),
            price: h.find(&["price", "unitprice"]),
            quantity: h.find(&["quantity"]),
            uom: h.find(&["unitofmeasure", "uom", "uomcode"]),
            po_number: h.find(&["ponumber"]),
            po_line: h.find(&["polinenumber", "orderlinenum"]),
            tax_amount: h.find(&["linetaxamount", "taxamount"]),
            tax_rate: h.find(&["linetaxrate", "taxrate"]),
            tax_code: h.find(&["linetaxcode", "taxcode"]),
            total: h.find(&["total", "linetotal", "amount"]),
            extras: Vec::new(),
        };
        let used = [
            c.invoice_number,
            c.line_number,
            c.description,
            c.supplier_part,
            c.buyer_part,
            c.price,
            c.quantity,
            c.uom,
            c.po_number,
            c.po_line,
            c.tax_amount,
            c.tax_rate,
            c.tax_code,
            c.total,
        ]
        .into_iter()
        .flatten()
        .chain(supplier.used())
        .collect::<Vec<_>>();
        c.extras = extras(h, used.into_iter());
        c
    }

    /// One line; `ordinal` is its 1-based position, used when `Line Number` is blank. The PO
    /// number cell of the line is returned beside it, empty when blank: whether it is the
    /// line's own PO or the invoice's depends on the invoice ([`crate::line_po`]).
    pub fn read<'r>(&self, c: &mut Cells<'r>, ordinal: u32) -> (InvoiceLine, &'r str) {
        let mut line = InvoiceLine {
            line_number: c.whole(self.line_number).unwrap_or(ordinal),
            quantity: c.decimal(self.quantity),
            uom: c.text(self.uom),
            unit_price: c.decimal(self.price),
            amount: c.decimal(self.total),
            description: c.text(self.description),
            supplier_part_id: c.text(self.supplier_part),
            buyer_part_id: c.text(self.buyer_part),
            po_line_number: c.text(self.po_line),
            ..InvoiceLine::default()
        };
        if line.amount.is_none()
            && let (Some(q), Some(p)) = (line.quantity, line.unit_price)
        {
            line.amount = q.checked_mul(p);
        }
        let tax = Tax {
            amount: c.decimal(self.tax_amount),
            rate: c.decimal(self.tax_rate),
            category: c.text(self.tax_code),
            ..Tax::default()
        };
        if tax != Tax::default() {
            line.taxes.push(tax);
        }
        if let Some(x) = c.extras(&self.extras) {
            line.extensions.insert(EXT.into(), x);
        }
        (line, c.raw(self.po_number))
    }
}

/// Columns of an `Invoice Charge` record.
#[derive(Debug, Clone)]
pub struct ChargeCols {
    pub invoice_number: Option<usize>,
    pub kind: Option<usize>,
    pub total: Option<usize>,
    pub description: Option<usize>,
}

impl ChargeCols {
    pub fn new(h: &Header) -> Self {
        ChargeCols {
            invoice_number: h.find(&["invoicenumber"]),
            kind: h.find(&["type", "chargetype"]),
            total: h.find(&["total", "amount"]),
            description: h.find(&["description"]),
        }
    }

    pub fn read(&self, c: &mut Cells<'_>) -> Option<Charge> {
        let raw = c.raw(self.kind);
        let named = |names: &[&str]| names.iter().any(|n| is_named(raw, n));
        let kind = if named(&["invoiceshippingcharge", "shipping"]) {
            Some(ChargeKind::Shipping)
        } else if named(&["invoicehandlingcharge", "handling"]) {
            Some(ChargeKind::Handling)
        } else if named(&["invoicemisccharge", "misc"]) {
            Some(ChargeKind::Other)
        } else {
            let found = raw.to_string();
            c.problem(
                self.kind,
                format!(
                    "{found:?} (expected InvoiceShippingCharge, InvoiceHandlingCharge or InvoiceMiscCharge)"
                ),
            );
            None
        };
        let total = c.decimal(self.total);
        if total.is_none() && c.raw(self.total).is_empty() {
            c.problem(
                self.total,
                "no amount (expected a decimal number in \"Total\")",
            );
        }
        let description = c.text(self.description);
        Some(charge(kind?, total?, description))
    }
}
