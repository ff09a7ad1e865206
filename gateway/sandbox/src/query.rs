//! Coupa query semantics over JSON records: `attr=value`, `attr[op]=value`, nested
//! `supplier[name]=x`, paging with `offset`/`limit` (max 50) and `return_object` shaping.
//!
//! Records are stored with Coupa's dashed keys; query keys use underscores. Both are
//! normalised (`-` → `_`) before comparing, so `invoice-number` and `invoice_number` both work.

use std::cmp::Ordering;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// Coupa's page size: "a maximum of 50 records per GET".
pub const PAGE_MAX: usize = 50;

/// Query keys that shape the answer rather than filter it.
const CONTROL_KEYS: &[&str] = &[
    "offset",
    "limit",
    "return_object",
    "fields",
    "order_by",
    "dir",
    "filter",
    "show_deleted_lines",
];

/// A comparison operator from Coupa's `attr[op]=value` syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Contains,
    StartsWith,
    EndsWith,
    Gt,
    Lt,
    GtOrEq,
    LtOrEq,
    NotEq,
    In,
    NotIn,
    Blank,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "contains" => Op::Contains,
            "starts_with" => Op::StartsWith,
            "ends_with" => Op::EndsWith,
            "gt" => Op::Gt,
            "lt" => Op::Lt,
            "gt_or_eq" => Op::GtOrEq,
            "lt_or_eq" => Op::LtOrEq,
            "not_eq" => Op::NotEq,
            "in" => Op::In,
            "not_in" => Op::NotIn,
            "blank" => Op::Blank,
            _ => return None,
        })
    }
}

/// One condition: a path into the record, an operator and the value to compare with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub path: Vec<String>,
    pub op: Op,
    pub value: String,
}

/// How much of each record to return (`return_object`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Full,
    Shallow,
    Limited,
}

/// A parsed list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub conditions: Vec<Condition>,
    pub offset: usize,
    pub limit: usize,
    pub shape: Shape,
}

/// Normalises a key for comparison: lower case, dashes as underscores.
pub fn norm(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('-', "_")
}

/// `norm(key) == normalised`, without building the normalised string.
fn same_key(key: &str, normalised: &str) -> bool {
    let key = key.trim();
    key.len() == normalised.len()
        && key.bytes().zip(normalised.bytes()).all(|(a, b)| {
            let a = if a == b'-' {
                b'_'
            } else {
                a.to_ascii_lowercase()
            };
            a == b
        })
}

/// Splits `supplier[name][contains]` into `["supplier", "name", "contains"]`.
fn split_key(key: &str) -> Vec<String> {
    key.split(['[', ']'])
        .filter(|p| !p.is_empty())
        .map(norm)
        .collect()
}

impl ListQuery {
    /// Parses query pairs; unknown operators are treated as nested attribute names, as Coupa
    /// would (and then simply match nothing).
    pub fn parse(pairs: &[(String, String)]) -> ListQuery {
        let mut q = ListQuery {
            conditions: Vec::new(),
            offset: 0,
            limit: PAGE_MAX,
            shape: Shape::Full,
        };
        for (k, v) in pairs {
            let nk = norm(k);
            match nk.as_str() {
                "offset" => q.offset = v.trim().parse().unwrap_or(0),
                "limit" => q.limit = v.trim().parse().unwrap_or(PAGE_MAX).clamp(1, PAGE_MAX),
                "return_object" => {
                    q.shape = match v.trim() {
                        "shallow" => Shape::Shallow,
                        "limited" | "none" => Shape::Limited,
                        _ => Shape::Full,
                    }
                }
                _ if CONTROL_KEYS.contains(&nk.as_str()) => {}
                _ => {
                    let mut path = split_key(k);
                    let op = match path.last().and_then(|l| Op::parse(l)) {
                        Some(op) if path.len() > 1 => {
                            path.pop();
                            op
                        }
                        _ => Op::Eq,
                    };
                    if !path.is_empty() {
                        q.conditions.push(Condition {
                            path,
                            op,
                            value: v.clone(),
                        });
                    }
                }
            }
        }
        q
    }

    /// The value of the first plain equality condition on the one-level attribute `key`
    /// (normalised, e.g. `invoice_number`): an indexed store can start from the records filed
    /// under it instead of scanning them all.
    pub fn equality_on(&self, key: &str) -> Option<&str> {
        self.conditions
            .iter()
            .find(|c| c.op == Op::Eq && c.path.len() == 1 && c.path[0] == key)
            .map(|c| c.value.as_str())
    }

    /// True when `record` satisfies every condition (conditions are ANDed).
    pub fn matches(&self, record: &Value) -> bool {
        self.conditions.iter().all(|c| c.matches(record))
    }

    /// Filters, pages and shapes `records` (already in id order).
    pub fn apply<'a>(&self, records: impl Iterator<Item = &'a Value>) -> Vec<Value> {
        records
            .filter(|r| self.matches(r))
            .skip(self.offset)
            .take(self.limit)
            .map(|r| shape(r, self.shape))
            .collect()
    }
}

/// Looks up a normalised path in a record whose keys may be dashed.
fn lookup<'a>(record: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = record;
    for part in path {
        let obj = cur.as_object()?;
        // Stored keys are dashed (`invoice-number`); the normalised path is underscored. Try
        // the dashed spelling directly, then compare without allocating.
        let dashed = part.replace('_', "-");
        cur = match obj.get(&dashed).or_else(|| obj.get(part.as_str())) {
            Some(v) => v,
            None => obj
                .iter()
                .find(|(k, _)| same_key(k, part))
                .map(|(_, v)| v)?,
        };
    }
    Some(cur)
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Compares numerically when both sides are decimals, else as text.
fn compare(a: &str, b: &str) -> Ordering {
    match (a.trim().parse::<Decimal>(), b.trim().parse::<Decimal>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

fn equal(a: &str, b: &str) -> bool {
    compare(a, b) == Ordering::Equal || a.eq_ignore_ascii_case(b)
}

/// The text a condition on `path` compares against: the value found, or for an object (an
/// association) its `id`, since `supplier=5` means the supplier's id, as in Coupa.
pub fn text_at(record: &Value, path: &[String]) -> Option<String> {
    let found = lookup(record, path).filter(|v| !v.is_null());
    let found = match found {
        Some(Value::Object(o)) => o.get("id"),
        other => other,
    };
    found.and_then(as_text)
}

impl Condition {
    fn matches(&self, record: &Value) -> bool {
        if self.op == Op::Blank {
            let blank = match lookup(record, &self.path).filter(|v| !v.is_null()) {
                None => true,
                Some(Value::String(s)) => s.is_empty(),
                Some(_) => false,
            };
            return blank == (self.value.trim() == "true");
        }
        let Some(actual) = text_at(record, &self.path) else {
            return matches!(self.op, Op::NotEq | Op::NotIn);
        };
        let want = self.value.as_str();
        let list = || want.split(',').map(str::trim);
        match self.op {
            Op::Eq => equal(&actual, want),
            Op::NotEq => !equal(&actual, want),
            Op::Contains => actual.to_lowercase().contains(&want.to_lowercase()),
            Op::StartsWith => actual.to_lowercase().starts_with(&want.to_lowercase()),
            Op::EndsWith => actual.to_lowercase().ends_with(&want.to_lowercase()),
            Op::Gt => compare(&actual, want) == Ordering::Greater,
            Op::Lt => compare(&actual, want) == Ordering::Less,
            Op::GtOrEq => compare(&actual, want) != Ordering::Less,
            Op::LtOrEq => compare(&actual, want) != Ordering::Greater,
            Op::In => list().any(|w| equal(&actual, w)),
            Op::NotIn => !list().any(|w| equal(&actual, w)),
            Op::Blank => false,
        }
    }
}

/// Keys kept for one-deep associations in a shallow answer: ids and natural keys.
const NATURAL_KEYS: &[&str] = &["id", "code", "name", "number", "po-number", "line-num"];

fn natural(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| NATURAL_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(natural).collect()),
        other => other.clone(),
    }
}

/// Applies `return_object`: full record, shallow (attributes plus natural keys of
/// associations), or limited (`{"id": n}`).
pub fn shape(record: &Value, shape: Shape) -> Value {
    match shape {
        Shape::Full => record.clone(),
        Shape::Limited => {
            let mut m = Map::new();
            if let Some(id) = record.get("id") {
                m.insert("id".into(), id.clone());
            }
            Value::Object(m)
        }
        Shape::Shallow => match record {
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), natural(v)))
                    .collect::<Map<_, _>>(),
            ),
            other => other.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(pairs: &[(&str, &str)]) -> ListQuery {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        ListQuery::parse(&pairs)
    }

    #[test]
    fn operators_and_nesting() {
        let r = json!({"id": 7, "invoice-number": "INV-1", "total": "500.00",
            "status": "draft", "supplier": {"id": 3, "name": "Fishy Co"}, "exported": false});
        assert!(q(&[("invoice-number", "INV-1")]).matches(&r));
        assert!(q(&[("invoice_number", "INV-1")]).matches(&r));
        assert!(q(&[("supplier[id]", "3")]).matches(&r));
        assert!(q(&[("supplier", "3")]).matches(&r));
        assert!(!q(&[("supplier[id]", "4")]).matches(&r));
        assert!(q(&[("supplier[name][contains]", "fishy")]).matches(&r));
        assert!(q(&[("total[gt]", "99.5")]).matches(&r));
        assert!(!q(&[("total[lt]", "99.5")]).matches(&r));
        assert!(q(&[("status[in]", "approved,draft")]).matches(&r));
        assert!(q(&[("status[not_in]", "approved,voided")]).matches(&r));
        assert!(q(&[("exported", "false")]).matches(&r));
        assert!(q(&[("comments[blank]", "true")]).matches(&r));
        assert!(!q(&[("exported", "true")]).matches(&r));
    }

    #[test]
    fn paging_is_bounded_to_fifty() {
        let recs: Vec<Value> = (1..=120).map(|i| json!({"id": i})).collect();
        let page = q(&[("offset", "100"), ("limit", "500")]).apply(recs.iter());
        assert_eq!(page.len(), 20);
        assert_eq!(page.first().and_then(|v| v.get("id")), Some(&json!(101)));
        assert_eq!(q(&[]).apply(recs.iter()).len(), 50);
    }

    #[test]
    fn shallow_keeps_natural_keys_only() {
        let r = json!({"id": 1, "supplier": {"id": 2, "name": "S", "po-method": "cxml"}});
        let s = shape(&r, Shape::Shallow);
        assert_eq!(s, json!({"id": 1, "supplier": {"id": 2, "name": "S"}}));
        assert_eq!(shape(&r, Shape::Limited), json!({"id": 1}));
    }
}
