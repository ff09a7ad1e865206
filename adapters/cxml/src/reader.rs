//! A hardened XML reader: bytes → a small element tree, with every size bounded.
//!
//! Why not hand quick-xml events straight to the mapping: the mapping wants to look around
//! (attributes of a parent, a sibling further down) and to name an XML path in every error.
//! A compact arena tree gives both, and its size is bounded by [`Limits`] before it is built.
//!
//! What it refuses, so hostile input cannot cost memory, stack or a network fetch:
//! - entity declarations of any kind (`<!ENTITY` in the internal subset, general or parameter,
//!   internal or external) — so billion laughs and XXE never start. A DOCTYPE itself is fine:
//!   its SYSTEM id is kept as text and never resolved; nothing here opens a file or a socket.
//! - references to entities other than the five predefined ones (`&lt; &gt; &amp; &apos;
//!   &quot;`); character references (`&#233;`) are fine.
//! - more depth, elements, attributes, attribute bytes or text bytes than [`Limits`] allows.
//!
//! Encodings: UTF-8 with or without BOM; a declared `ISO-8859-1`/`Latin-1` is transcoded;
//! `US-ASCII` is read as UTF-8. UTF-16 and other declared encodings are refused by name.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};

use crate::error::CxmlError;

/// Bounds on what one input may hold. The defaults fit a cXML invoice with tens of thousands of
/// lines and refuse anything shaped like an attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting (cXML needs about 12).
    pub max_depth: usize,
    /// Most elements in one input.
    pub max_elements: usize,
    /// Most attributes on one element.
    pub max_attributes: usize,
    /// Longest attribute value, in bytes.
    pub max_attribute_bytes: usize,
    /// Longest text content of one element, in bytes.
    pub max_text_bytes: usize,
    /// Longest DOCTYPE declaration, in bytes.
    pub max_doctype_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 * 1024 * 1024,
            max_depth: 64,
            max_elements: 4_000_000,
            max_attributes: 64,
            max_attribute_bytes: 64 * 1024,
            max_text_bytes: 1024 * 1024,
            max_doctype_bytes: 64 * 1024,
        }
    }
}

const NO_PARENT: u32 = u32::MAX;

/// One element: name, attributes, its own text (the concatenation of its text children) and
/// its child elements by index into the tree's arena.
#[derive(Debug, Clone, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<u32>,
    parent: u32,
    line: u32,
    column: u32,
}

/// One XML document (one root element and everything under it).
#[derive(Debug, Clone, Default)]
pub struct Tree {
    elements: Vec<Element>,
    /// The DOCTYPE text, when the document had one (kept, never resolved).
    pub doctype: Option<String>,
}

impl Tree {
    /// The root element. `None` only for an empty tree, which [`parse`] never returns.
    pub fn root(&self) -> Option<Node<'_>> {
        (!self.elements.is_empty()).then_some(Node { tree: self, id: 0 })
    }

    /// How many elements this document holds.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }
}

/// A borrowed view of one element, with the navigation the mapping needs.
#[derive(Debug, Clone, Copy)]
pub struct Node<'t> {
    tree: &'t Tree,
    id: u32,
}

impl<'t> Node<'t> {
    fn el(&self) -> &'t Element {
        // Ids only come from the tree itself, so this lookup cannot miss; fall back to an
        // empty element rather than panic if it ever did.
        static EMPTY: Element = Element {
            name: String::new(),
            attrs: Vec::new(),
            text: String::new(),
            children: Vec::new(),
            parent: NO_PARENT,
            line: 0,
            column: 0,
        };
        self.tree.elements.get(self.id as usize).unwrap_or(&EMPTY)
    }

    /// The element name as written (prefix included, if any).
    pub fn name(&self) -> &'t str {
        &self.el().name
    }

    /// The value of attribute `name`, entities resolved, or `None`.
    pub fn attr(&self, name: &str) -> Option<&'t str> {
        self.el()
            .attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The attribute value trimmed, or `None` when absent or blank.
    pub fn attr_opt(&self, name: &str) -> Option<&'t str> {
        self.attr(name).map(str::trim).filter(|s| !s.is_empty())
    }

    /// Every attribute in document order.
    pub fn attrs(&self) -> impl Iterator<Item = (&'t str, &'t str)> + 't {
        self.el()
            .attrs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The element's own text, trimmed.
    pub fn text(&self) -> &'t str {
        self.el().text.trim()
    }

    /// The element's own text trimmed, or `None` when blank.
    pub fn text_opt(&self) -> Option<&'t str> {
        Some(self.text()).filter(|s| !s.is_empty())
    }

    /// Child elements in document order.
    pub fn children(&self) -> impl Iterator<Item = Node<'t>> + 't {
        let tree = self.tree;
        self.el().children.iter().map(move |&id| Node { tree, id })
    }

    /// Child elements named `name`, in document order.
    pub fn children_named(&self, name: &'t str) -> impl Iterator<Item = Node<'t>> + 't {
        self.children().filter(move |c| c.name() == name)
    }

    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<Node<'t>> {
        self.children().find(|c| c.name() == name)
    }

    /// Follows a `/`-separated chain of first children (`"ItemDetail/UnitPrice/Money"`).
    pub fn find(&self, path: &str) -> Option<Node<'t>> {
        let mut at = *self;
        for step in path.split('/') {
            at = at.child(step)?;
        }
        Some(at)
    }

    pub fn parent(&self) -> Option<Node<'t>> {
        let p = self.el().parent;
        (p != NO_PARENT).then_some(Node {
            tree: self.tree,
            id: p,
        })
    }

    /// Line and column (1-based) of the element's start tag.
    pub fn line_column(&self) -> (u32, u32) {
        (self.el().line, self.el().column)
    }

    /// The XML path of this element: `/cXML/Request/InvoiceDetailRequest/InvoiceDetailOrder[2]`.
    /// A position is shown when the element has siblings of the same name.
    pub fn path(&self) -> String {
        let mut steps = Vec::new();
        let mut at = Some(*self);
        while let Some(n) = at {
            let name = n.name();
            let step = match n.parent() {
                Some(p) => {
                    let same: Vec<u32> = p
                        .el()
                        .children
                        .iter()
                        .copied()
                        .filter(|&c| {
                            p.tree
                                .elements
                                .get(c as usize)
                                .is_some_and(|e| e.name == name)
                        })
                        .collect();
                    if same.len() > 1 {
                        let pos = same.iter().position(|&c| c == n.id).unwrap_or(0) + 1;
                        format!("{name}[{pos}]")
                    } else {
                        name.to_string()
                    }
                }
                None => name.to_string(),
            };
            steps.push(step);
            at = n.parent();
        }
        steps.reverse();
        format!("/{}", steps.join("/"))
    }

    /// Path plus line and column, for error messages.
    pub fn location(&self) -> String {
        let (l, c) = self.line_column();
        format!("{} (line {l}, column {c})", self.path())
    }

    /// Location of attribute `attr` of this element.
    pub fn attr_location(&self, attr: &str) -> String {
        let (l, c) = self.line_column();
        format!("{}/@{attr} (line {l}, column {c})", self.path())
    }

    /// An [`CxmlError::Invalid`] located at this element.
    pub fn invalid(&self, message: impl Into<String>) -> CxmlError {
        CxmlError::invalid(self.location(), message)
    }
}

/// Everything read from one input: the complete documents in order and, when the input went
/// bad part-way, the error that stopped reading (documents before it are kept).
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub trees: Vec<Tree>,
    pub error: Option<CxmlError>,
}

/// Reads every cXML document in `raw` (usually one; several when concatenated).
pub fn parse(raw: &[u8], limits: &Limits) -> Parsed {
    let mut out = Parsed::default();
    if raw.len() > limits.max_bytes {
        out.error = Some(CxmlError::Limit {
            location: "input".into(),
            what: format!("input size {} bytes", raw.len()),
            limit: limits.max_bytes,
        });
        return out;
    }
    let text = match to_utf8(raw) {
        Ok(t) => t,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let mut builder = Builder::new(&text, limits);
    builder.run(&mut out);
    out
}

/// Reads the first document of `raw`, or the error that prevented it.
pub fn parse_one(raw: &[u8], limits: &Limits) -> Result<Tree, CxmlError> {
    let mut parsed = parse(raw, limits);
    if parsed.trees.is_empty() {
        return Err(parsed.error.take().unwrap_or_else(|| CxmlError::Syntax {
            location: "input".into(),
            message: "no root element; expected <cXML>".into(),
        }));
    }
    Ok(parsed.trees.swap_remove(0))
}

/// Line and column (1-based, columns in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before
        .get(line_start..)
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

fn at_offset(text: &str, offset: usize) -> String {
    let (l, c) = line_col(text, offset);
    format!("line {l}, column {c}")
}

/// Strips a UTF-8 BOM, transcodes a declared ISO-8859-1, and checks UTF-8.
fn to_utf8(raw: &[u8]) -> Result<Cow<'_, str>, CxmlError> {
    if raw.starts_with(&[0xFE, 0xFF]) || raw.starts_with(&[0xFF, 0xFE]) {
        return Err(CxmlError::Syntax {
            location: "line 1, column 1".into(),
            message: "UTF-16 input is not supported; send UTF-8".into(),
        });
    }
    let body = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    match declared_encoding(body).as_deref() {
        None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => {}
        Some("iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1") => {
            // Every byte is the code point of the same value.
            return Ok(Cow::Owned(body.iter().map(|&b| char::from(b)).collect()));
        }
        Some(other) => {
            return Err(CxmlError::Syntax {
                location: "line 1 (XML declaration)".into(),
                message: format!(
                    "declared encoding {other:?} is not supported; expected UTF-8 or ISO-8859-1"
                ),
            });
        }
    }
    match std::str::from_utf8(body) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) => {
            let good = body.get(..e.valid_up_to()).unwrap_or_default();
            let good = std::str::from_utf8(good).unwrap_or_default();
            Err(CxmlError::Syntax {
                location: at_offset(good, good.len()),
                message: "invalid UTF-8 byte sequence (the document declares or defaults to UTF-8)"
                    .into(),
            })
        }
    }
}

/// The `encoding` of the XML declaration, lower-cased, if there is one.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let head = body.get(..body.len().min(256))?;
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = String::from_utf8_lossy(head.get(..end)?).to_ascii_lowercase();
    let idx = decl.find("encoding")?;
    let rest = decl.get(idx + "encoding".len()..)?.trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let value = rest.get(1..)?;
    let close = value.find(quote)?;
    Some(value.get(..close)?.trim().to_string())
}

fn is_predefined(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

struct Builder<'a> {
    text: &'a str,
    limits: &'a Limits,
    tree: Tree,
    /// Open elements, innermost last.
    stack: Vec<u32>,
    elements_seen: usize,
    /// Incremental line/column tracking: the offset up to which lines were counted.
    counted_to: usize,
    line: u32,
    line_start: usize,
    doctype: Option<String>,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str, limits: &'a Limits) -> Self {
        Builder {
            text,
            limits,
            tree: Tree::default(),
            stack: Vec::new(),
            elements_seen: 0,
            counted_to: 0,
            line: 1,
            line_start: 0,
            doctype: None,
        }
    }

    /// Line and column of `offset`, counting forward from the last position (offsets only grow).
    fn position(&mut self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        if offset < self.counted_to {
            return line_col(self.text, offset);
        }
        let bytes = self.text.as_bytes();
        let slice = bytes.get(self.counted_to..offset).unwrap_or_default();
        for (i, &b) in slice.iter().enumerate() {
            if b == b'\n' {
                self.line = self.line.saturating_add(1);
                self.line_start = self.counted_to + i + 1;
            }
        }
        self.counted_to = offset;
        let col = self
            .text
            .get(self.line_start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (self.line, u32::try_from(col).unwrap_or(u32::MAX))
    }

    /// Where we are, as the path of the open elements plus line/column of `offset`.
    fn here(&mut self, offset: usize) -> String {
        let (l, c) = self.position(offset);
        match self.stack.last() {
            Some(&id) => format!(
                "{} (line {l}, column {c})",
                Node {
                    tree: &self.tree,
                    id
                }
                .path()
            ),
            None => format!("line {l}, column {c}"),
        }
    }

    fn run(&mut self, out: &mut Parsed) {
        let mut reader = quick_xml::Reader::from_str(self.text);
        reader.config_mut().check_end_names = true;
        reader.config_mut().allow_dangling_amp = false;
        loop {
            let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let event = match reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    let at = usize::try_from(reader.error_position()).unwrap_or(before);
                    let location = self.here(at);
                    out.error = Some(CxmlError::Syntax {
                        location,
                        message: e.to_string(),
                    });
                    return;
                }
            };
            let step = match event {
                Event::Start(s) => self.open(&s, before, false, out),
                Event::Empty(s) => self.open(&s, before, true, out),
                Event::End(_) => {
                    self.close(out);
                    Ok(())
                }
                Event::Text(t) => match t.xml10_content() {
                    Ok(s) => self.push_text(&s, before),
                    Err(e) => Err(CxmlError::Syntax {
                        location: self.here(before),
                        message: e.to_string(),
                    }),
                },
                Event::CData(t) => match t.xml10_content() {
                    Ok(s) => self.push_text(&s, before),
                    Err(e) => Err(CxmlError::Syntax {
                        location: self.here(before),
                        message: e.to_string(),
                    }),
                },
                Event::GeneralRef(r) => self.reference(&r, before),
                Event::DocType(d) => self.doctype(&d, before),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => Ok(()),
                Event::Eof => {
                    if !self.stack.is_empty() {
                        let location = self.here(before);
                        out.error = Some(CxmlError::Syntax {
                            location,
                            message: "the document ends before its elements are closed".into(),
                        });
                    } else if out.trees.is_empty() && out.error.is_none() {
                        out.error = Some(CxmlError::Syntax {
                            location: self.here(before),
                            message: "no root element; expected <cXML>".into(),
                        });
                    }
                    return;
                }
            };
            if let Err(e) = step {
                out.error = Some(e);
                return;
            }
        }
    }

    fn doctype(
        &mut self,
        d: &quick_xml::events::BytesText<'_>,
        at: usize,
    ) -> Result<(), CxmlError> {
        if d.len() > self.limits.max_doctype_bytes {
            return Err(CxmlError::Limit {
                location: self.here(at),
                what: format!("DOCTYPE of {} bytes", d.len()),
                limit: self.limits.max_doctype_bytes,
            });
        }
        let body = String::from_utf8_lossy(d);
        if let Some(subset_at) = body.find('[') {
            let subset = body.get(subset_at..).unwrap_or_default();
            if subset.contains("<!ENTITY") {
                let external = subset.contains("SYSTEM") || subset.contains("PUBLIC");
                let message = if external {
                    "the DOCTYPE declares an external entity; entity declarations are refused \
                     and nothing is ever fetched"
                } else {
                    "the DOCTYPE declares entities; entity declarations are refused (only the \
                     five predefined entities are expanded)"
                };
                return Err(CxmlError::Entity {
                    location: self.here(at),
                    message: message.into(),
                });
            }
            if subset.contains('%') {
                return Err(CxmlError::Entity {
                    location: self.here(at),
                    message: "the DOCTYPE uses parameter entities; they are refused".into(),
                });
            }
        }
        self.doctype = Some(body.trim().to_string());
        Ok(())
    }

    fn reference(
        &mut self,
        r: &quick_xml::events::BytesRef<'_>,
        at: usize,
    ) -> Result<(), CxmlError> {
        let name = String::from_utf8_lossy(r).to_string();
        let ch = if r.is_char_ref() {
            match r.resolve_char_ref() {
                Ok(Some(c)) => c,
                _ => {
                    return Err(CxmlError::Entity {
                        location: self.here(at),
                        message: format!("&{name}; is not a valid character reference"),
                    });
                }
            }
        } else {
            match is_predefined(&name) {
                Some(c) => c,
                None => {
                    return Err(CxmlError::Entity {
                        location: self.here(at),
                        message: format!(
                            "reference to entity &{name}; refused: only &lt; &gt; &amp; &apos; \
                             &quot; and character references are allowed"
                        ),
                    });
                }
            }
        };
        let mut buf = [0u8; 4];
        self.push_text(ch.encode_utf8(&mut buf), at)
    }

    fn push_text(&mut self, s: &str, at: usize) -> Result<(), CxmlError> {
        let Some(&id) = self.stack.last() else {
            if s.trim().is_empty() {
                return Ok(());
            }
            return Err(CxmlError::Syntax {
                location: self.here(at),
                message: "text outside the root element".into(),
            });
        };
        let len = self
            .tree
            .elements
            .get(id as usize)
            .map(|e| e.text.len())
            .unwrap_or(0);
        if len + s.len() > self.limits.max_text_bytes {
            return Err(CxmlError::Limit {
                location: self.here(at),
                what: format!("text of {} bytes", len + s.len()),
                limit: self.limits.max_text_bytes,
            });
        }
        if let Some(e) = self.tree.elements.get_mut(id as usize) {
            e.text.push_str(s);
        }
        Ok(())
    }

    fn open(
        &mut self,
        s: &BytesStart<'_>,
        at: usize,
        empty: bool,
        out: &mut Parsed,
    ) -> Result<(), CxmlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(CxmlError::Limit {
                location: self.here(at),
                what: "element nesting depth".into(),
                limit: self.limits.max_depth,
            });
        }
        self.elements_seen += 1;
        if self.elements_seen > self.limits.max_elements {
            return Err(CxmlError::Limit {
                location: self.here(at),
                what: "number of elements".into(),
                limit: self.limits.max_elements,
            });
        }
        let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
        let (line, column) = self.position(at);
        let mut attrs = Vec::new();
        for attr in s.attributes() {
            if attrs.len() >= self.limits.max_attributes {
                return Err(CxmlError::Limit {
                    location: format!("{} <{name}>", self.here(at)),
                    what: "number of attributes on one element".into(),
                    limit: self.limits.max_attributes,
                });
            }
            let attr = attr.map_err(|e| CxmlError::Syntax {
                location: format!("<{name}> line {line}, column {column}"),
                message: e.to_string(),
            })?;
            if attr.value.len() > self.limits.max_attribute_bytes {
                return Err(CxmlError::Limit {
                    location: format!(
                        "<{name}> @{} line {line}, column {column}",
                        String::from_utf8_lossy(attr.key.as_ref())
                    ),
                    what: format!("attribute value of {} bytes", attr.value.len()),
                    limit: self.limits.max_attribute_bytes,
                });
            }
            let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
            let value = attr.unescape_value().map_err(|e| CxmlError::Entity {
                location: format!("<{name}> @{key} line {line}, column {column}"),
                message: format!(
                    "{e}; only &lt; &gt; &amp; &apos; &quot; and character references are allowed"
                ),
            })?;
            attrs.push((key, value.into_owned()));
        }
        if self.stack.is_empty() && !self.tree.elements.is_empty() {
            // Defensive: a finished tree is always moved out in `close`.
            self.tree = Tree::default();
        }
        let id = u32::try_from(self.tree.elements.len()).map_err(|_| CxmlError::Limit {
            location: format!("line {line}, column {column}"),
            what: "number of elements".into(),
            limit: u32::MAX as usize,
        })?;
        let parent = self.stack.last().copied().unwrap_or(NO_PARENT);
        self.tree.elements.push(Element {
            name,
            attrs,
            text: String::new(),
            children: Vec::new(),
            parent,
            line,
            column,
        });
        if let Some(p) = self.tree.elements.get_mut(parent as usize) {
            p.children.push(id);
        }
        self.stack.push(id);
        if empty {
            self.close(out);
        }
        Ok(())
    }

    fn close(&mut self, out: &mut Parsed) {
        self.stack.pop();
        if self.stack.is_empty() {
            let mut tree = std::mem::take(&mut self.tree);
            tree.doctype = self.doctype.take();
            out.trees.push(tree);
        }
    }
}
