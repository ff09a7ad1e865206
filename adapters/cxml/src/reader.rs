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
//! Encodings: UTF-8 with or without BOM, and UTF-16 with its BOM or without (told from the
//! `<?` it starts with); a declared `windows-1252` or `ISO-8859-1` (read as Windows-1252, as
//! browsers do) and any other encoding of the WHATWG Encoding Standard (`Shift_JIS`, `GBK`,
//! ...) is transcoded, bytes that are not text in it refused with their line; `US-ASCII` is read as UTF-8. An unknown encoding is refused by name.

use std::borrow::Cow;
use std::sync::Arc;

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
            max_elements: 2_000_000,
            max_attributes: 64,
            max_attribute_bytes: 64 * 1024,
            max_text_bytes: 1024 * 1024,
            max_doctype_bytes: 64 * 1024,
        }
    }
}

const NONE: u32 = u32::MAX;

/// Where a piece of text lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Store {
    /// A range of the source: the common case, no copy.
    #[default]
    Source,
    /// A range of the tree's buffer (unescaped attribute values, written once).
    Buf,
    /// Element text that needed unescaping or joining: `start` indexes the tree's own
    /// strings, so appending stays linear however often text and children alternate.
    Own,
}

/// A piece of text (see [`Store`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
    store: Store,
}

#[derive(Debug, Clone, Copy)]
struct Attr {
    key: Span,
    value: Span,
}

/// One element: name, attributes (a run of the tree's attribute list), its own text (the
/// concatenation of its text children) and links to parent, children and next sibling.
#[derive(Debug, Clone, Copy)]
struct Element {
    name: Span,
    attr_start: u32,
    attr_count: u32,
    text: Span,
    parent: u32,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
    line: u32,
    column: u32,
}

/// One XML document (one root element and everything under it). Names, attribute values and
/// text point into the shared source where they need no unescaping, so building the tree
/// allocates per document, not per element.
///
/// `Debug` shows the shape only, never the text: the source holds the SharedSecret.
#[derive(Clone)]
pub struct Tree {
    source: Arc<str>,
    buf: String,
    texts: Vec<String>,
    elements: Vec<Element>,
    attrs: Vec<Attr>,
    /// The DOCTYPE text, when the document had one (kept, never resolved).
    pub doctype: Option<String>,
}

impl Tree {
    fn new(source: Arc<str>) -> Self {
        Tree {
            source,
            buf: String::new(),
            texts: Vec::new(),
            elements: Vec::new(),
            attrs: Vec::new(),
            doctype: None,
        }
    }

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

    fn str(&self, s: Span) -> &str {
        let range = s.start as usize..(s.start as usize + s.len as usize);
        match s.store {
            Store::Source => self.source.get(range).unwrap_or_default(),
            Store::Buf => self.buf.get(range).unwrap_or_default(),
            Store::Own => self
                .texts
                .get(s.start as usize)
                .map(String::as_str)
                .unwrap_or_default(),
        }
    }

    fn el(&self, id: u32) -> Option<&Element> {
        self.elements.get(id as usize)
    }
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree")
            .field("elements", &self.elements.len())
            .field("root", &self.root().map(|r| r.name()))
            .finish_non_exhaustive()
    }
}

/// A borrowed view of one element, with the navigation the mapping needs.
#[derive(Clone, Copy)]
pub struct Node<'t> {
    tree: &'t Tree,
    id: u32,
}

impl std::fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Node({})", self.location())
    }
}

/// Child elements of one element, in document order.
#[derive(Clone)]
pub struct Children<'t> {
    tree: &'t Tree,
    next: u32,
}

impl std::fmt::Debug for Children<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Children")
    }
}

impl<'t> Iterator for Children<'t> {
    type Item = Node<'t>;
    fn next(&mut self) -> Option<Node<'t>> {
        let id = self.next;
        let e = self.tree.el(id)?;
        self.next = e.next_sibling;
        Some(Node {
            tree: self.tree,
            id,
        })
    }
}

impl<'t> Node<'t> {
    fn el(&self) -> Option<&'t Element> {
        self.tree.el(self.id)
    }

    /// The element name as written (prefix included, if any).
    pub fn name(&self) -> &'t str {
        self.el().map(|e| self.tree.str(e.name)).unwrap_or_default()
    }

    /// Every attribute in document order, entities resolved.
    pub fn attrs(&self) -> impl Iterator<Item = (&'t str, &'t str)> + 't {
        let tree = self.tree;
        let (start, count) = self
            .el()
            .map(|e| (e.attr_start as usize, e.attr_count as usize))
            .unwrap_or((0, 0));
        tree.attrs
            .get(start..start + count)
            .unwrap_or_default()
            .iter()
            .map(move |a| (tree.str(a.key), tree.str(a.value)))
    }

    /// The value of attribute `name`, entities resolved, or `None`.
    pub fn attr(&self, name: &str) -> Option<&'t str> {
        self.attrs().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The attribute value trimmed, or `None` when absent or blank.
    pub fn attr_opt(&self, name: &str) -> Option<&'t str> {
        self.attr(name).map(str::trim).filter(|s| !s.is_empty())
    }

    /// The element's own text, trimmed.
    pub fn text(&self) -> &'t str {
        self.el()
            .map(|e| self.tree.str(e.text))
            .unwrap_or_default()
            .trim()
    }

    /// The element's own text trimmed, or `None` when blank.
    pub fn text_opt(&self) -> Option<&'t str> {
        Some(self.text()).filter(|s| !s.is_empty())
    }

    /// Child elements in document order.
    pub fn children(&self) -> Children<'t> {
        Children {
            tree: self.tree,
            next: self.el().map(|e| e.first_child).unwrap_or(NONE),
        }
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
        let p = self.el()?.parent;
        (p != NONE).then_some(Node {
            tree: self.tree,
            id: p,
        })
    }

    /// Line and column (1-based) of the element's start tag.
    pub fn line_column(&self) -> (u32, u32) {
        self.el().map(|e| (e.line, e.column)).unwrap_or((0, 0))
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
                    let mut count = 0usize;
                    let mut pos = 0usize;
                    for c in p.children_named(name) {
                        count += 1;
                        if c.id == n.id {
                            pos = count;
                        }
                    }
                    if count > 1 {
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
    if raw.len() > limits.max_bytes || raw.len() >= u32::MAX as usize {
        out.error = Some(CxmlError::Limit {
            location: "input".into(),
            what: format!("input size {} bytes", raw.len()),
            limit: limits.max_bytes.min(u32::MAX as usize - 1),
        });
        return out;
    }
    let text: Arc<str> = match to_utf8(raw) {
        Ok(t) => Arc::from(t.as_ref()),
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let mut builder = Builder::new(text, limits);
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

/// Strips a UTF-8 BOM, transcodes UTF-16 (every XML processor must read it) and a declared
/// encoding, and checks UTF-8.
fn to_utf8(raw: &[u8]) -> Result<Cow<'_, str>, CxmlError> {
    if let Some((endian, body)) = gateway_model::charset::utf16_bom(raw) {
        return gateway_model::charset::from_utf16(body, endian)
            .map(Cow::Owned)
            .map_err(|good| CxmlError::Syntax {
                location: at_offset(&good, good.len()),
                message: "invalid UTF-16 (half a character) in a document that starts with a UTF-16 byte-order mark".into(),
            });
    }
    // UTF-16 without its byte-order mark, told from `<?` as XML's Appendix F does (`3C 00 3F
    // 00`, `00 3C 00 3F`): read, not refused as "\0?\0x\0m\0l is not an element name".
    let endian = match raw.get(..4) {
        Some(b"<\0?\0") => Some(gateway_model::charset::Endian::Little),
        Some(b"\0<\0?") => Some(gateway_model::charset::Endian::Big),
        _ => None,
    };
    if let Some(endian) = endian {
        return gateway_model::charset::from_utf16(raw, endian)
            .map(Cow::Owned)
            .map_err(|good| CxmlError::Syntax {
                location: at_offset(&good, good.len()),
                message: "invalid UTF-16 (half a character) in a document written in UTF-16 without a byte-order mark".into(),
            });
    }
    let bom = raw.starts_with(b"\xEF\xBB\xBF");
    let body = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    // A UTF-8 byte order mark wins over whatever the declaration says.
    let declared = if bom { None } else { declared_encoding(body) };
    match declared.as_deref() {
        None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => {}
        // ISO-8859-1 as browsers and mail clients read it (the WHATWG Encoding Standard):
        // Windows-1252, which differs only at 0x80..=0x9F, where ISO-8859-1 has C1 control
        // codes no business text means and Windows systems that label their text ISO-8859-1
        // put curly quotes and the euro sign.
        Some(
            "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1" | "windows-1252" | "cp1252"
            | "x-cp1252",
        ) => {
            return Ok(Cow::Owned(gateway_model::charset::from_windows_1252(body)));
        }
        Some(other) => {
            use gateway_model::charset::{Undecodable, decode_labelled, line_of};
            return decode_labelled(body, other)
                .map(Cow::Owned)
                .map_err(|e| CxmlError::Syntax {
                    location: match &e {
                        Undecodable::UnknownLabel(_) => "line 1 (XML declaration)".into(),
                        Undecodable::Malformed { offset, .. } => {
                            format!("line {}, byte {}", line_of(body, *offset), offset + 1)
                        }
                    },
                    message: match e {
                        Undecodable::UnknownLabel(_) => format!(
                            "declared encoding {other:?} is not supported; expected UTF-8, \
                             UTF-16, windows-1252 or another encoding of the WHATWG Encoding \
                             Standard (ISO-8859-x, Shift_JIS, EUC-JP, GBK, Big5, EUC-KR, ...)"
                        ),
                        Undecodable::Malformed { charset, .. } => format!(
                            "not {charset} text, as the XML declaration says it is: send the \
                             document again in the encoding it declares"
                        ),
                    },
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
    source: Arc<str>,
    limits: &'a Limits,
    tree: Tree,
    /// Open elements, innermost last.
    stack: Vec<u32>,
    elements_seen: usize,
    /// Incremental line/column tracking: the offset up to which lines were counted.
    counted_to: usize,
    line: u32,
    /// Characters between the last line start and `counted_to`.
    column: usize,
    doctype: Option<String>,
}

/// Where `part` lies in `whole`, when it is a sub-slice of it.
fn span_in(whole: &str, part: &[u8]) -> Option<Span> {
    let off = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    whole.get(off..off.checked_add(part.len())?)?;
    Some(Span {
        start: u32::try_from(off).ok()?,
        len: u32::try_from(part.len()).ok()?,
        store: Store::Source,
    })
}

impl<'a> Builder<'a> {
    fn new(source: Arc<str>, limits: &'a Limits) -> Self {
        Builder {
            tree: Tree::new(source.clone()),
            source,
            limits,
            stack: Vec::new(),
            elements_seen: 0,
            counted_to: 0,
            line: 1,
            column: 0,
            doctype: None,
        }
    }

    /// Line and column of `offset`, counting forward from the last position (offsets only grow),
    /// so a document written on one long line costs linear, not quadratic, time.
    fn position(&mut self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.source.len());
        if offset < self.counted_to {
            return line_col(&self.source, offset);
        }
        let slice = self
            .source
            .as_bytes()
            .get(self.counted_to..offset)
            .unwrap_or_default();
        // UTF-8: every byte that is not a continuation byte starts a character.
        let chars = |b: &[u8]| b.iter().filter(|&&c| (c & 0xC0) != 0x80).count();
        match slice.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                let newlines = slice.iter().filter(|&&b| b == b'\n').count();
                self.line = self
                    .line
                    .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
                self.column = chars(slice.get(last + 1..).unwrap_or_default());
            }
            None => self.column += chars(slice),
        }
        self.counted_to = offset;
        (
            self.line,
            u32::try_from(self.column + 1).unwrap_or(u32::MAX),
        )
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
        let source = self.source.clone();
        let mut reader = quick_xml::Reader::from_str(&source);
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
                Event::Text(t) => self.text_bytes(&t.into_inner(), before),
                Event::CData(t) => self.text_bytes(&t.into_inner(), before),
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
                None if self.in_secret() => {
                    return Err(CxmlError::Entity {
                        location: self.here(at),
                        message: "an entity reference in the SharedSecret is refused (name \
                                  not shown)"
                            .into(),
                    });
                }
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
        self.push_owned(ch.encode_utf8(&mut buf), at)
    }

    /// Whether the innermost open element is a SharedSecret (whose text never goes in a message).
    fn in_secret(&self) -> bool {
        self.stack.last().is_some_and(|&id| {
            self.tree
                .el(id)
                .is_some_and(|e| self.tree.str(e.name) == "SharedSecret")
        })
    }

    fn text_limit(&mut self, len: usize, at: usize) -> Result<(), CxmlError> {
        if len > self.limits.max_text_bytes {
            return Err(CxmlError::Limit {
                location: self.here(at),
                what: format!("text of {len} bytes"),
                limit: self.limits.max_text_bytes,
            });
        }
        Ok(())
    }

    /// The open element, or an error for text outside the root.
    fn current(&mut self, s: &[u8], at: usize) -> Result<Option<u32>, CxmlError> {
        match self.stack.last() {
            Some(&id) => Ok(Some(id)),
            None if s.iter().all(u8::is_ascii_whitespace) => Ok(None),
            None => Err(CxmlError::Syntax {
                location: self.here(at),
                message: "text outside the root element".into(),
            }),
        }
    }

    /// Raw text as it appears in the source: kept as a span when it needs no line-end
    /// normalisation and continues the element's text; copied otherwise.
    fn text_bytes(&mut self, raw: &[u8], at: usize) -> Result<(), CxmlError> {
        let Some(id) = self.current(raw, at)? else {
            return Ok(());
        };
        let text = self.tree.el(id).map(|e| e.text).unwrap_or_default();
        // Indentation before the first content is trimmed on access anyway.
        if text.len == 0 && raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        self.text_limit(text.len as usize + raw.len(), at)?;
        if !raw.contains(&b'\r')
            && let Some(span) = span_in(&self.source, raw)
            && (text.len == 0
                || (text.store == Store::Source
                    && u64::from(text.start) + u64::from(text.len) == u64::from(span.start)))
        {
            let start = if text.len == 0 {
                span.start
            } else {
                text.start
            };
            if let Some(e) = self.tree.elements.get_mut(id as usize) {
                e.text = Span {
                    start,
                    len: text.len.saturating_add(span.len),
                    store: Store::Source,
                };
            }
            return Ok(());
        }
        let s = std::str::from_utf8(raw).map_err(|e| CxmlError::Syntax {
            location: format!("line {}", self.line),
            message: e.to_string(),
        })?;
        let normalised = s.replace("\r\n", "\n").replace('\r', "\n");
        self.push_owned(&normalised, at)
    }

    /// Appends text that is not a plain range of the source (unescaped, normalised).
    fn push_owned(&mut self, s: &str, at: usize) -> Result<(), CxmlError> {
        let Some(id) = self.current(s.as_bytes(), at)? else {
            return Ok(());
        };
        let text = self.tree.el(id).map(|e| e.text).unwrap_or_default();
        self.text_limit(text.len as usize + s.len(), at)?;
        let index = if text.store == Store::Own {
            text.start
        } else {
            let mut own = String::with_capacity(text.len as usize + s.len());
            own.push_str(self.tree.str(text));
            self.tree.texts.push(own);
            u32::try_from(self.tree.texts.len() - 1).unwrap_or(u32::MAX)
        };
        let len = match self.tree.texts.get_mut(index as usize) {
            Some(own) => {
                own.push_str(s);
                u32::try_from(own.len()).unwrap_or(u32::MAX)
            }
            None => 0,
        };
        if let Some(e) = self.tree.elements.get_mut(id as usize) {
            e.text = Span {
                start: index,
                len,
                store: Store::Own,
            };
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
        let raw_name = s.name();
        let name = span_in(&self.source, raw_name.as_ref()).ok_or_else(|| CxmlError::Syntax {
            location: format!("line {}", self.line),
            message: "element name is not valid UTF-8".into(),
        })?;
        let (line, column) = self.position(at);
        if !is_xml_name(self.tree.str(name)) {
            return Err(CxmlError::Syntax {
                location: format!("line {line}, column {column}"),
                message: format!(
                    "{:?} is not an XML element name (a letter, `_` or `:` first, then letters, digits, `_ - . :`)",
                    self.tree.str(name)
                ),
            });
        }
        let attr_start = u32::try_from(self.tree.attrs.len()).unwrap_or(u32::MAX);
        let mut attr_count = 0u32;
        for attr in s.attributes() {
            let shown = self.tree.str(name).to_string();
            if attr_count as usize >= self.limits.max_attributes {
                return Err(CxmlError::Limit {
                    location: format!("{} <{shown}>", self.here(at)),
                    what: "number of attributes on one element".into(),
                    limit: self.limits.max_attributes,
                });
            }
            let attr = attr.map_err(|e| CxmlError::Syntax {
                location: format!("<{shown}> line {line}, column {column}"),
                message: e.to_string(),
            })?;
            let key_text = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
            if attr.value.len() > self.limits.max_attribute_bytes {
                return Err(CxmlError::Limit {
                    location: format!("<{shown}> @{key_text} line {line}, column {column}"),
                    what: format!("attribute value of {} bytes", attr.value.len()),
                    limit: self.limits.max_attribute_bytes,
                });
            }
            let key =
                span_in(&self.source, attr.key.as_ref()).ok_or_else(|| CxmlError::Syntax {
                    location: format!("<{shown}> line {line}, column {column}"),
                    message: "attribute name is not valid UTF-8".into(),
                })?;
            let plain = !attr
                .value
                .iter()
                .any(|&b| matches!(b, b'&' | b'\r' | b'\n' | b'\t'));
            let value = match (plain, span_in(&self.source, &attr.value)) {
                (true, Some(span)) => span,
                _ => {
                    let v = attr.unescape_value().map_err(|e| CxmlError::Entity {
                        location: format!("<{shown}> @{key_text} line {line}, column {column}"),
                        message: format!(
                            "{e}; only &lt; &gt; &amp; &apos; &quot; and character references \
                             are allowed"
                        ),
                    })?;
                    let start = u32::try_from(self.tree.buf.len()).unwrap_or(u32::MAX);
                    self.tree.buf.push_str(&v);
                    Span {
                        start,
                        len: u32::try_from(v.len()).unwrap_or(u32::MAX),
                        store: Store::Buf,
                    }
                }
            };
            if !is_xml_name(self.tree.str(key)) {
                return Err(CxmlError::Syntax {
                    location: format!("<{shown}> line {line}, column {column}"),
                    message: format!(
                        "{key_text:?} is not an XML attribute name (a letter, `_` or `:` first, then letters, digits, `_ - . :`)"
                    ),
                });
            }
            self.tree.attrs.push(Attr { key, value });
            attr_count += 1;
        }
        let id = u32::try_from(self.tree.elements.len()).unwrap_or(NONE);
        let parent = self.stack.last().copied().unwrap_or(NONE);
        self.tree.elements.push(Element {
            name,
            attr_start,
            attr_count,
            text: Span::default(),
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            line,
            column,
        });
        let last = self
            .tree
            .elements
            .get(parent as usize)
            .map(|p| p.last_child)
            .unwrap_or(NONE);
        if let Some(prev) = self.tree.elements.get_mut(last as usize) {
            prev.next_sibling = id;
        }
        if let Some(p) = self.tree.elements.get_mut(parent as usize) {
            if p.first_child == NONE {
                p.first_child = id;
            }
            p.last_child = id;
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
            let fresh = Tree::new(self.source.clone());
            let mut tree = std::mem::replace(&mut self.tree, fresh);
            tree.doctype = self.doctype.take();
            out.trees.push(tree);
        }
    }
}

/// Whether `s` is an XML 1.0 `Name` (fifth edition, productions 4, 4a and 5). A reader must
/// refuse a document whose element or attribute names are not, and the writer writes back
/// only names this accepts, so what one reads the other can write.
pub(crate) fn is_xml_name(s: &str) -> bool {
    fn start(c: char) -> bool {
        matches!(c,
            ':' | 'A'..='Z' | '_' | 'a'..='z'
            | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
            | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
            | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
            | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
    }
    fn rest(c: char) -> bool {
        start(c)
            || matches!(c,
                '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
    }
    // Names in cXML are ASCII: check those bytes without decoding characters.
    if s.is_ascii() {
        let b = s.as_bytes();
        return b
            .first()
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b':')
            && b.iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'-' | b'.'));
    }
    let mut chars = s.chars();
    chars.next().is_some_and(start) && chars.all(rest)
}
