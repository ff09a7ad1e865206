//! Coupa's purchase order export file, read side: the dashed columns of header records and
//! `Line` records and how each becomes part of a canonical purchase order.

use gateway_model::{
    OrderLine, OrderPurpose, Party, PaymentTerms, PurchaseOrder, ShippingTerms, Text,
};

use crate::cells::Cells;
use crate::coupa_invoice::EXT;
use crate::header::Header;
use crate::parties::PartyCols;

fn extras(h: &Header, used: &[usize]) -> Vec<usize> {
    (1..h.names.len())
        .filter(|i| !used.contains(i))
        .filter(|i| h.names.get(*i).is_some_and(|n| !n.is_empty()))
        .collect()
}

/// Columns of a PO header record.
#[derive(Debug, Clone)]
pub struct PoCols {
    pub id: Option<usize>,
    pub po_number: Option<usize>,
    pub status: Option<usize>,
    pub version: Option<usize>,
    pub order_date: Option<usize>,
    pub currency: Option<usize>,
    pub total: Option<usize>,
    pub supplier: PartyCols,
    pub ship_to: PartyCols,
    pub terms: Option<usize>,
    /// `ship-to-attention`: the ship-to's contact.
    pub ship_to_attention: Option<usize>,
    /// `shipping-terms-code`: the shipping terms' code.
    pub shipping_terms: Option<usize>,
    pub extras: Vec<usize>,
}

impl PoCols {
    pub fn new(h: &Header) -> Self {
        let mut c = PoCols {
            id: h.find(&["id"]),
            po_number: h.find(&["ponumber", "ordernumber"]),
            status: h.find(&["status"]),
            version: h.find(&["version"]),
            order_date: h.find(&["orderdate", "createdat"]),
            currency: h.find(&["currency", "currencycode"]),
            total: h.find(&["total"]),
            supplier: PartyCols::find(h, &["supplier"]),
            ship_to: PartyCols::find(h, &["shiptoaddress", "shipto"]),
            terms: h.find(&["paymenttermscode", "paymentterms"]),
            ship_to_attention: h.find(&["shiptoattention"]),
            shipping_terms: h.find(&["shippingtermscode", "shippingterms"]),
            extras: Vec::new(),
        };
        let used: Vec<usize> = [
            c.id,
            c.po_number,
            c.version,
            c.order_date,
            c.currency,
            c.total,
            c.terms,
            c.ship_to_attention,
            c.shipping_terms,
        ]
        .into_iter()
        .flatten()
        .chain(c.supplier.used())
        .chain(c.ship_to.used())
        .collect();
        // `status` stays an extension unless it says `cancelled` or `issued` (see `read`).
        c.extras = extras(h, &used);
        c
    }

    /// The PO header; its number is `po-number` when the file has one, else Coupa's `id`
    /// (Coupa's PO number is the order id).
    pub fn read(&self, c: &mut Cells<'_>) -> PurchaseOrder {
        let mut po = PurchaseOrder {
            po_number: c.text(self.po_number).or_else(|| c.text(self.id)),
            order_date: c.date(self.order_date),
            version: c.whole(self.version),
            currency: c.text(self.currency),
            total: c.decimal(self.total),
            supplier: self.supplier.read(c),
            ship_to: self.ship_to.read(c),
            ..PurchaseOrder::default()
        };
        if c.raw(self.status).eq_ignore_ascii_case("cancelled") {
            po.purpose = Some(OrderPurpose::Cancel);
        }
        if let Some(t) = c.text(self.terms) {
            po.payment_terms = Some(PaymentTerms {
                description: Some(t),
                ..Default::default()
            });
        }
        // The attention line is the ship-to's contact, a ship-to of its own when the record
        // has no ship-to address (as the writer writes one).
        if let Some(a) = c.text(self.ship_to_attention) {
            po.ship_to.get_or_insert_with(Party::default).contact = Some(a);
        }
        po.shipping_terms = c
            .text(self.shipping_terms)
            .map(|code| ShippingTerms { code: Some(code) });
        let mut extras = self.extras.clone();
        // `cancelled` is the cancel purpose, and `issued` what the export says of every
        // order that is not one (the writer writes it for a new or changed order): neither
        // is kept, so an order read back from a written file is the order written. Any
        // other status (`draft`, `closed`, ...) is kept as the source had it.
        let status = c.raw(self.status);
        if po.purpose == Some(OrderPurpose::Cancel) || status.eq_ignore_ascii_case("issued") {
            extras.retain(|i| Some(*i) != self.status);
        }
        if self.po_number.is_some() && c.text(self.po_number).is_some() {
            // Both a number and an id: the id is a fact of its own.
        } else if let Some(id) = self.id {
            extras.retain(|i| *i != id);
        }
        if let Some(x) = c.extras(&extras) {
            po.extensions.insert(EXT.into(), x);
        }
        po
    }

    /// The value lines must carry in `order-header-id`: Coupa's id of the order.
    pub fn header_id(&self, c: &Cells<'_>) -> Option<Text> {
        c.text(self.id)
    }
}

/// Columns of a PO `Line` record.
#[derive(Debug, Clone)]
pub struct PoLineCols {
    pub line_number: Option<usize>,
    pub description: Option<usize>,
    pub quantity: Option<usize>,
    pub price: Option<usize>,
    pub uom: Option<usize>,
    pub need_by: Option<usize>,
    pub supplier_part: Option<usize>,
    pub buyer_part: Option<usize>,
    pub total: Option<usize>,
    pub currency: Option<usize>,
    pub header_id: Option<usize>,
    pub extras: Vec<usize>,
}

impl PoLineCols {
    pub fn new(h: &Header) -> Self {
        let mut c = PoLineCols {
            line_number: h.find(&["linenumber", "linenum"]),
            description: h.find(&["description"]),
            quantity: h.find(&["quantity"]),
            price: h.find(&["price"]),
            uom: h.find(&["uom", "uomcode", "unitofmeasure"]),
            need_by: h.find(&["needbydate", "needby"]),
            supplier_part: h.find(&["sourcepartnum", "supplierpartnumber"]),
            buyer_part: h.find(&["itemnumber", "buyerpartnumber"]),
            total: h.find(&["total"]),
            currency: h.find(&["currency", "currencycode"]),
            header_id: h.find(&["orderheaderid"]),
            extras: Vec::new(),
        };
        let used: Vec<usize> = [
            c.line_number,
            c.description,
            c.quantity,
            c.price,
            c.uom,
            c.need_by,
            c.supplier_part,
            c.buyer_part,
            c.total,
            c.currency,
            c.header_id,
        ]
        .into_iter()
        .flatten()
        .collect();
        c.extras = extras(h, &used);
        c
    }

    /// One order line; the line's currency is returned beside it for the caller to check
    /// against the order (its `order-header-id`, which chose the order, is read by the caller).
    pub fn read(&self, c: &mut Cells<'_>, ordinal: u32) -> (OrderLine, LineRefs) {
        let mut line = OrderLine {
            line_number: c.whole(self.line_number).unwrap_or(ordinal),
            quantity: c.decimal(self.quantity),
            uom: c.text(self.uom),
            unit_price: c.decimal(self.price),
            amount: c.decimal(self.total),
            description: c.text(self.description),
            supplier_part_id: c.text(self.supplier_part),
            buyer_part_id: c.text(self.buyer_part),
            need_by: c.date(self.need_by),
            ..OrderLine::default()
        };
        if line.amount.is_none()
            && let (Some(q), Some(p)) = (line.quantity, line.unit_price)
        {
            line.amount = q.checked_mul(p);
        }
        if let Some(x) = c.extras(&self.extras) {
            line.extensions.insert(EXT.into(), x);
        }
        let refs = LineRefs {
            currency: c.text(self.currency),
        };
        (line, refs)
    }
}

/// What a PO line says about its order.
#[derive(Debug, Clone, Default)]
pub struct LineRefs {
    pub currency: Option<Text>,
}
