//! Party columns shared by both Coupa layouts: a name, Coupa's id and supplier number (in the
//! domains [`COUPA_ID`] and [`COUPA_NUMBER`]), and an address spread over `<prefix> street1`,
//! `city`, `state`, ... columns.

use gateway_model::{Address, Party, PartyId};

use crate::cells::Cells;
use crate::header::Header;
use crate::table::Source;

/// Domain of Coupa's own id of a party (a supplier's or an address's `id`) in `Party::ids`.
/// The same domain `adapter-coupa` writes a Coupa PO's supplier and ship-to ids in, and reads
/// a supplier's id from when it delivers an invoice, so a document read from a Coupa CSV file
/// and one mapped from Coupa's API name the same supplier the same way.
pub const COUPA_ID: &str = "coupa";
/// Domain of a Coupa supplier number, beside its id in [`COUPA_ID`]: `adapter-coupa`'s domain
/// for it. A number kept in `coupa` would be taken for Coupa's id when it is all digits.
pub const COUPA_NUMBER: &str = "coupa-number";

/// Where one party's cells are in a header.
#[derive(Debug, Clone, Default)]
pub struct PartyCols {
    pub name: Option<usize>,
    /// `<prefix>number`: the Coupa supplier number, read into [`COUPA_NUMBER`].
    pub number: Option<usize>,
    /// `<prefix>id`: Coupa's id of the party, read into [`COUPA_ID`].
    pub id: Option<usize>,
    pub street: Vec<usize>,
    pub city: Option<usize>,
    pub region: Option<usize>,
    pub postal_code: Option<usize>,
    pub country: Option<usize>,
}

impl PartyCols {
    /// Finds `<prefix><suffix>` for every prefix in `prefixes` (normalized, e.g. `shipto`,
    /// `shiptoaddress`).
    pub fn find(h: &Header, prefixes: &[&str]) -> Self {
        let f = |suffixes: &[&str]| {
            let names: Vec<String> = prefixes
                .iter()
                .flat_map(|p| suffixes.iter().map(move |s| format!("{p}{s}")))
                .collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            h.find(&refs)
        };
        let street = [
            &["street1", "line1", "address1", "street"][..],
            &["street2", "line2", "address2"][..],
            &["street3", "line3", "address3"][..],
        ]
        .iter()
        .filter_map(|s| f(s))
        .collect();
        PartyCols {
            name: f(&["name"]),
            number: f(&["number"]),
            id: f(&["id"]),
            street,
            city: f(&["city"]),
            region: f(&["state", "region", "province"]),
            postal_code: f(&["postalcode", "zip", "zipcode", "postcode"]),
            country: f(&["country", "countrycode"]),
        }
    }

    /// Every column this party uses (so the rest can go to extensions).
    pub fn used(&self) -> impl Iterator<Item = usize> + '_ {
        [
            self.name,
            self.number,
            self.id,
            self.city,
            self.region,
            self.postal_code,
            self.country,
        ]
        .into_iter()
        .flatten()
        .chain(self.street.iter().copied())
    }

    /// The party, or `None` when the row has none of its cells.
    pub fn read(&self, c: &Cells<'_>) -> Option<Party> {
        // Most rows carry one or two of the five parties a layout names.
        if self.used().all(|i| c.raw(Some(i)).is_empty()) {
            return None;
        }
        // The id first, then the number: the order `adapter-coupa` gives them in.
        let mut ids = Vec::new();
        if let Some(v) = c.text(self.id) {
            ids.push(PartyId {
                domain: COUPA_ID.into(),
                value: v,
            });
        }
        if let Some(v) = c.text(self.number) {
            ids.push(PartyId {
                domain: COUPA_NUMBER.into(),
                value: v,
            });
        }
        let address = Address {
            lines: self
                .street
                .iter()
                .filter_map(|i| c.text(Some(*i)))
                .collect(),
            city: c.text(self.city),
            region: c.text(self.region),
            postal_code: c.text(self.postal_code),
            country: c.text(self.country),
        };
        let has_address = address != Address::default();
        let party = Party {
            name: c.text(self.name),
            ids,
            address: has_address.then_some(address),
            ..Party::default()
        };
        (party != Party::default()).then_some(party)
    }
}

/// Column names written for one party: `(name, value)` pairs with the given spellings.
#[derive(Debug, Clone, Copy)]
pub struct PartyNames {
    /// The party's path in its document (`$.supplier`), which names a value of it that cannot
    /// be written.
    pub root: &'static str,
    pub name: &'static str,
    /// Written from the party's [`COUPA_NUMBER`] id.
    pub number: Option<&'static str>,
    /// Written from the party's [`COUPA_ID`] id.
    pub id: Option<&'static str>,
    pub street: [&'static str; 3],
    pub city: &'static str,
    pub region: &'static str,
    pub postal_code: &'static str,
    pub country: &'static str,
}

impl PartyNames {
    /// Hands each of these columns to `cell` with where its value is and `party`'s value,
    /// `None` where it has none (an invoice's writer leaves those out unless a kept column
    /// needs them, see `Table::settle`; a PO's records keep every column, empty, so positions
    /// never move). The name, street lines and city are descriptive text; the ids, state,
    /// postal code and country are values ([`Source`]).
    pub fn write<'a>(
        &self,
        party: Option<&'a Party>,
        mut cell: impl FnMut(&'static str, Source, Option<&'a str>),
    ) {
        let root = self.root;
        let address = party.and_then(|p| p.address.as_ref());
        let id = |domain: &str| {
            let at = party.and_then(|p| {
                p.ids
                    .iter()
                    .position(|id| id.domain.eq_ignore_ascii_case(domain))
            });
            Source::value("ids").under(root).nth(at)
        };
        cell(
            self.name,
            Source::text("name").under(root),
            party.and_then(|p| p.name.as_deref()),
        );
        if let Some(n) = self.number {
            cell(
                n,
                id(COUPA_NUMBER),
                party.and_then(|p| p.id_in(COUPA_NUMBER)),
            );
        }
        if let Some(n) = self.id {
            cell(n, id(COUPA_ID), party.and_then(|p| p.id_in(COUPA_ID)));
        }
        for (i, k) in self.street.iter().enumerate() {
            cell(
                k,
                Source::text("address.lines").under(root).nth(Some(i)),
                address.and_then(|a| a.lines.get(i)).map(|l| l.as_str()),
            );
        }
        let part = |field| Source::value(field).under(root);
        cell(
            self.city,
            Source::text("address.city").under(root),
            address.and_then(|a| a.city.as_deref()),
        );
        cell(
            self.region,
            part("address.region"),
            address.and_then(|a| a.region.as_deref()),
        );
        cell(
            self.postal_code,
            part("address.postal_code"),
            address.and_then(|a| a.postal_code.as_deref()),
        );
        cell(
            self.country,
            part("address.country"),
            address.and_then(|a| a.country.as_deref()),
        );
    }
}
