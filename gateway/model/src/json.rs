//! Canonical JSON in and out, with errors that name the JSON path of the problem.
//!
//! Reading takes one document, an array of them, or several values one after another (JSON
//! Lines). Every byte of the input ends up in a document or in a located error: a value that
//! is not valid JSON is reported with the lines it covered, and reading goes on at the next
//! line that begins a value, so one broken line does not silently take the documents after it
//! with it. An object that names a key twice is refused (which of the two values was meant
//! cannot be told; `serde_json` alone keeps the last one without a word).

use std::fmt;
use std::ops::Range;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::map::Entry;
use serde_json::{Map, Value};

use crate::document::{Document, DocumentKind, Invoice, PurchaseOrder, SCHEMA_VERSION};

/// Why a canonical JSON document could not be read. Never retryable: the input must change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct JsonError {
    /// Where: a JSON path such as `$.lines[2].quantity`, or `line 3 column 7` for syntax errors,
    /// prefixed with the document's position in the input when there are several.
    pub location: String,
    pub message: String,
    /// The kind the refused value names (`"kind"`, read on its own), when it is a JSON object
    /// that names one this gateway knows: a document refused for one bad field is still kept
    /// and counted under its kind, not as something unreadable.
    pub kind: Option<DocumentKind>,
    /// The number the refused value carries (`invoice_number`, `po_number`; a string or a
    /// whole number), read the same way, so the sender and the operators find the refusal by
    /// the number they know. `None` for input that is not valid JSON.
    pub number: Option<String>,
}

impl JsonError {
    fn at(location: impl Into<String>, message: impl Into<String>) -> Self {
        JsonError {
            location: location.into(),
            message: message.into(),
            kind: None,
            number: None,
        }
    }
}

/// One item read from canonical JSON input, in input order: a document, or why a value (or a
/// stretch of input that is not JSON) is not one.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonItem {
    pub result: Result<Document, JsonError>,
    /// How messages name it: `document 3 (line 7)` when the input holds several values, else
    /// `document 1` (or `document 2` for the second element of one array).
    pub name: String,
    /// The line (1-based) its value begins on; an array's for one of its elements.
    pub line: usize,
    /// The bytes of the input it stands for: its value (an element's is its whole array's),
    /// or, for what is not valid JSON, everything from where the broken value began up to
    /// where reading went on, without trailing white space. Between items there is only
    /// white space (and, after a broken value, the comma that ended an array element).
    pub span: Range<usize>,
}

/// Most documents one input may hold; bounds memory on hostile input.
const MAX_DOCUMENTS: usize = 1_000_000;

/// Most repeated keys one value lists; the rest are counted.
const MAX_REPEATS_LISTED: usize = 10;

/// Longest number kept from a refused value: a longer one is no document number.
const MAX_NUMBER_CHARS: usize = 200;

/// Reads one canonical document.
pub fn from_json(bytes: &[u8]) -> Result<Document, JsonError> {
    let input = without_bom(bytes);
    if let Some(e) = utf16_refused(input) {
        return Err(e);
    }
    let value: Checked = serde_json::from_slice(input).map_err(|e| syntax_error(input, &e))?;
    document_from_checked(value, "$", None)
}

/// `bytes` without a UTF-8 byte-order mark, which JSON must not carry but Windows tools
/// (Notepad, PowerShell's `Out-File`) write; RFC 8259 lets a reader ignore it, and refusing
/// it said only "expected value at line 1 column 1".
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The refusal of input that starts with a UTF-16 byte-order mark (Excel's and Notepad's
/// "Unicode"): without it, the sender read only "expected value at line 1 column 1".
fn utf16_refused(input: &[u8]) -> Option<JsonError> {
    let order = if input.starts_with(b"\xFF\xFE") {
        "little-endian"
    } else if input.starts_with(b"\xFE\xFF") {
        "big-endian"
    } else {
        return None;
    };
    Some(JsonError::at(
        "line 1 column 1",
        format!(
            "the input is UTF-16 ({order}, as its byte-order mark says); canonical JSON must be UTF-8 (RFC 8259): save or send it as UTF-8. Nothing of it was read"
        ),
    ))
}

/// Reads every document in `bytes`: one object, an array of objects, or JSON Lines. Each
/// document is read on its own, so one bad document does not hide the others; input that is
/// not valid JSON is one error naming the lines it covers, and reading goes on after it (see
/// [`read_json`]).
pub fn from_json_lines(bytes: &[u8]) -> Vec<Result<Document, JsonError>> {
    from_json_lines_or(bytes, None)
}

/// [`from_json_lines`], reading a document without `"kind"` as `default_kind` (`gateway
/// convert --kind`, for files written by hand or by a system that knows only one kind). A
/// document that names its kind keeps it.
pub fn from_json_lines_or(
    bytes: &[u8],
    default_kind: Option<DocumentKind>,
) -> Vec<Result<Document, JsonError>> {
    read_json(bytes, default_kind)
        .into_iter()
        .map(|item| item.result)
        .collect()
}

/// [`from_json_lines_or`] with where each item is: its name, line and bytes.
///
/// After a value that is not valid JSON (a trailing comma, a quote left open, a byte that is
/// not UTF-8), reading goes on at the first later line that begins a value standing on its own
/// there: indented no deeper than the broken value and ending its line (an array element's
/// comma aside). Stopping at the first syntax error, as this reader once did, lost every
/// document after it without a word; taking up every line again would read the inside of a
/// broken pretty-printed document as documents of its own. The lines skipped are reported
/// with the error, so nothing is passed over in silence.
pub fn read_json(bytes: &[u8], default_kind: Option<DocumentKind>) -> Vec<JsonItem> {
    let mut out = Vec::new();
    read_json_each(bytes, default_kind, &mut |item| out.push(item));
    out
}

/// [`read_json`], handing each item to `sink` as soon as it is read instead of collecting
/// them, so a reader of JSON Lines holds one document at a time beside the input (the file
/// drop publishes a long file in batches as it reads it). A top-level array is parsed whole
/// before its first element is handed on: its memory grows with the array, bounded only by
/// the input's size; JSON Lines is the form for long inputs.
pub fn read_json_each(
    bytes: &[u8],
    default_kind: Option<DocumentKind>,
    sink: &mut dyn FnMut(JsonItem),
) {
    let input = without_bom(bytes);
    let base = bytes.len() - input.len();
    if let Some(e) = utf16_refused(input) {
        sink(JsonItem {
            result: Err(e),
            name: "document 1".into(),
            line: 1,
            span: base..base + trimmed_end(input, input.len()),
        });
        return;
    }
    let mut out = Counted { sink, count: 0 };
    let mut scanner = Scanner::new(input);
    let mut first = true;
    while let Some(scanned) = scanner.next_value() {
        // A lone value is `$`; one among several is named by its place and line.
        let several = !first || !only_white_space(&input[scanned.span.end..]);
        first = false;
        let span = base + scanned.span.start..base + scanned.span.end;
        let span_end = span.end;
        let line = scanned.line;
        let name = |n: usize| {
            if several {
                format!("document {n} (line {line})")
            } else {
                format!("document {n}")
            }
        };
        match scanned.read {
            Ok(Top::Array(elements)) => {
                for (i, element) in elements.into_iter().enumerate() {
                    let name = name(out.len() + 1);
                    let root = if several {
                        format!("{name}: $[{i}]")
                    } else {
                        format!("$[{i}]")
                    };
                    let result = document_from_checked(element, &root, default_kind);
                    out.push(JsonItem {
                        result,
                        name,
                        line,
                        span: span.clone(),
                    });
                    if out.len() >= MAX_DOCUMENTS {
                        break;
                    }
                }
            }
            Ok(Top::Single(value)) => {
                let name = name(out.len() + 1);
                let root = if several {
                    format!("{name}: $")
                } else {
                    "$".to_string()
                };
                let result = document_from_checked(value, &root, default_kind);
                out.push(JsonItem {
                    result,
                    name,
                    line,
                    span,
                });
            }
            Err(broken) => {
                let name = name(out.len() + 1);
                out.push(JsonItem {
                    result: Err(broken),
                    name,
                    line,
                    span,
                });
            }
        }
        if out.len() >= MAX_DOCUMENTS {
            out.push(JsonItem {
                result: Err(JsonError::at(
                    format!("document {}", out.len() + 1),
                    format!(
                        "more than {MAX_DOCUMENTS} documents in one input; the rest was not read"
                    ),
                )),
                name: format!("document {}", out.len() + 1),
                line,
                span: span_end..bytes.len(),
            });
            break;
        }
    }
}

/// The sink of [`read_json_each`] with the number of items handed to it, which names the
/// next one.
struct Counted<'s> {
    sink: &'s mut dyn FnMut(JsonItem),
    count: usize,
}

impl Counted<'_> {
    fn len(&self) -> usize {
        self.count
    }

    fn push(&mut self, item: JsonItem) {
        self.count += 1;
        (self.sink)(item);
    }
}

/// One top-level value as the scanner found it.
struct Scanned {
    /// Its bytes (of the input without its byte-order mark).
    span: Range<usize>,
    /// The line it begins on.
    line: usize,
    read: Result<Top, JsonError>,
}

/// Walks the input value by value, resuming after values that are not valid JSON.
struct Scanner<'a> {
    input: &'a [u8],
    pos: usize,
    lines: Lines<'a>,
    /// Reading has gone on after a broken value, which may have been an array: a comma
    /// between two values ended an element of it, and is not an error of its own.
    resumed: bool,
    /// Bytes the search for where to go on may still parse. A line that opens a value and
    /// never closes it makes every later such line parse up to the nesting limit before it
    /// fails: two million lines of `[` took minutes. Past the budget (a few times the input,
    /// which no input with its values one to a line, or pretty-printed, comes near), the rest
    /// of the input is reported with the error instead.
    budget: usize,
}

impl<'a> Scanner<'a> {
    fn new(input: &'a [u8]) -> Self {
        Scanner {
            input,
            pos: 0,
            lines: Lines::new(input),
            resumed: false,
            budget: input.len().saturating_mul(4).saturating_add(1 << 20),
        }
    }

    fn next_value(&mut self) -> Option<Scanned> {
        let input = self.input;
        let mut pos = skip_white_space(input, self.pos);
        if self.resumed && input.get(pos) == Some(&b',') {
            pos = skip_white_space(input, pos + 1);
        }
        if pos >= input.len() {
            self.pos = input.len();
            return None;
        }
        let (line, line_start) = self.lines.locate(pos);
        let mut stream = serde_json::Deserializer::from_slice(&input[pos..]).into_iter::<Top>();
        match stream.next() {
            None => {
                self.pos = input.len();
                None
            }
            Some(Ok(top)) => {
                let end = pos + stream.byte_offset();
                self.pos = end;
                Some(Scanned {
                    span: pos..end,
                    line,
                    read: Ok(top),
                })
            }
            Some(Err(e)) => {
                let column = pos - line_start + 1;
                let (error_line, error_column, error_at) = if e.line() <= 1 {
                    let c = e.column().max(1);
                    (line, column + c - 1, pos + c - 1)
                } else {
                    let l = line + e.line() - 1;
                    let c = e.column().max(1);
                    (l, c, self.lines.start_of(l) + c - 1)
                };
                let error_at = error_at.min(input.len());
                // Always past the broken value's first byte, so reading cannot stand still.
                let resume = self
                    .resume_after(line + 1, error_line, column - 1)
                    .clamp(pos + 1, input.len());
                let end = pos + trimmed_end(&input[pos..], resume - pos);
                let last_line = line + count_lines(&input[pos..end]);
                let unread = if last_line == line {
                    format!("line {line} was not read")
                } else {
                    format!("lines {line} to {last_line} were not read")
                };
                let unread = if resume == input.len() && self.budget == 0 {
                    format!(
                        "{unread} (nor was the rest of the input: it breaks too often to find where a value begins again)"
                    )
                } else {
                    unread
                };
                let error = match first_not_utf8(&input[pos..end], error_at - pos) {
                    Some(bad) => {
                        let at = pos + bad;
                        let (bad_line, bad_column) = line_and_column(input, pos, line, column, at);
                        JsonError::at(
                            format!("line {bad_line} column {bad_column}"),
                            format!(
                                "not UTF-8: byte 0x{:02X} cannot begin or continue a character here; canonical JSON must be UTF-8 (RFC 8259): a file saved as Latin-1 or Windows-1252 must be saved as UTF-8; {unread}",
                                input[at]
                            ),
                        )
                    }
                    // The parser noticed only past the value's last line (a brace never
                    // closed, read up to the next line's value): the error is the value's,
                    // at its end, not the next line's.
                    None if error_at >= end => {
                        let (l, c) = line_and_column(input, pos, line, column, end);
                        JsonError::at(
                            format!("line {l} column {c}"),
                            format!(
                                "not valid JSON: the value is not closed where line {l} ends ({}); {unread}",
                                without_position(&e)
                            ),
                        )
                    }
                    None => JsonError::at(
                        format!("line {error_line} column {error_column}"),
                        format!("not valid JSON: {}; {unread}", without_position(&e)),
                    ),
                };
                self.pos = resume;
                self.resumed = true;
                Some(Scanned {
                    span: pos..end,
                    line,
                    read: Err(error),
                })
            }
        }
    }

    /// Where reading goes on after a value that began on `from_line - 1`, `indent` bytes into
    /// its line, and broke on `error_line`: the start of the first line from `from_line` (or
    /// the error's line, when later) that is indented no deeper and begins a value ending its
    /// line; the end of the input when none does.
    fn resume_after(&mut self, from_line: usize, error_line: usize, indent: usize) -> usize {
        let input = self.input;
        let mut at = self.lines.start_of(from_line.max(error_line));
        while at < input.len() {
            let line_end = input[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(input.len(), |n| at + n);
            let depth = input[at..line_end]
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            let first = at + depth;
            let blank = input[first..line_end].iter().all(|&b| b == b'\r');
            if !blank && depth <= indent {
                let (ends, parsed) = ends_its_line(input, first);
                if ends {
                    return at;
                }
                self.budget = self.budget.saturating_sub(parsed);
                if self.budget == 0 {
                    return input.len();
                }
            }
            at = line_end + 1;
        }
        input.len()
    }
}

/// Whether a value begins at `first` and its last line holds nothing after it but white
/// space and at most one comma (an array element's); and how many bytes were parsed to tell.
fn ends_its_line(input: &[u8], first: usize) -> (bool, usize) {
    let mut stream =
        serde_json::Deserializer::from_slice(&input[first..]).into_iter::<IgnoredAny>();
    match stream.next() {
        Some(Ok(_)) => {}
        Some(Err(e)) => return (false, offset_of(&input[first..], e.line(), e.column())),
        None => return (false, input.len() - first),
    }
    let parsed = stream.byte_offset();
    let mut i = first + parsed;
    let blank = |b: &u8| *b == b' ' || *b == b'\t' || *b == b'\r';
    while input.get(i).is_some_and(blank) {
        i += 1;
    }
    if input.get(i) == Some(&b',') {
        i += 1;
        while input.get(i).is_some_and(blank) {
            i += 1;
        }
    }
    (i >= input.len() || input[i] == b'\n', parsed)
}

/// The offset in `input` of (1-based) `line` and `column`, as `serde_json` counts them.
fn offset_of(input: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match input[start..].iter().position(|&b| b == b'\n') {
            Some(n) => start += n + 1,
            None => return input.len(),
        }
    }
    (start + column).min(input.len())
}

/// Line numbers of byte offsets, counted forward only: each offset asked for is at or after
/// the last, so a whole input is counted once.
struct Lines<'a> {
    input: &'a [u8],
    /// The start of line `line`.
    start: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(input: &'a [u8]) -> Self {
        Lines {
            input,
            start: 0,
            line: 1,
        }
    }

    /// The line of `offset` and where that line starts.
    fn locate(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.input.len());
        if offset < self.start {
            // Never asked for (offsets only grow); counted again from the top rather than
            // sliced backwards.
            self.start = 0;
            self.line = 1;
        }
        while let Some(n) = self.input[self.start..offset]
            .iter()
            .position(|&b| b == b'\n')
        {
            self.start += n + 1;
            self.line += 1;
        }
        (self.line, self.start)
    }

    /// Where line `line` starts (the input's end when it has fewer lines).
    fn start_of(&mut self, line: usize) -> usize {
        while self.line < line {
            match self.input[self.start..].iter().position(|&b| b == b'\n') {
                Some(n) => {
                    self.start += n + 1;
                    self.line += 1;
                }
                None => return self.input.len(),
            }
        }
        self.start
    }
}

fn skip_white_space(input: &[u8], mut pos: usize) -> usize {
    while input
        .get(pos)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        pos += 1;
    }
    pos
}

fn only_white_space(input: &[u8]) -> bool {
    skip_white_space(input, 0) == input.len()
}

/// The length of `input[..end]` without the white space at its end.
fn trimmed_end(input: &[u8], end: usize) -> usize {
    let mut end = end.min(input.len());
    while end > 0 && matches!(input[end - 1], b' ' | b'\t' | b'\n' | b'\r') {
        end -= 1;
    }
    end
}

fn count_lines(input: &[u8]) -> usize {
    input.iter().filter(|&&b| b == b'\n').count()
}

/// The line and column of `at`, counted from `from`, which is on `line` at `column`.
fn line_and_column(
    input: &[u8],
    from: usize,
    line: usize,
    column: usize,
    at: usize,
) -> (usize, usize) {
    let between = &input[from..at];
    match between.iter().rposition(|&b| b == b'\n') {
        Some(last) => (line + count_lines(between), between.len() - last),
        None => (line, column + between.len()),
    }
}

/// Where in `span` the first byte that is not UTF-8 is, when it is at or before `error_at`
/// (a string is checked when it ends, so the parser's error comes at or after the byte).
fn first_not_utf8(span: &[u8], error_at: usize) -> Option<usize> {
    match std::str::from_utf8(span) {
        Ok(_) => None,
        Err(e) => (e.valid_up_to() <= error_at).then_some(e.valid_up_to()),
    }
}

/// What `e` says, without the position it appends (given beside it, counted in the whole
/// input rather than from where the value began).
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) if e.line() > 0 => text[..at].to_string(),
        _ => text,
    }
}

/// A syntax error of a lone document ([`from_json`]), at its line and column; a byte that is
/// not UTF-8 is named as such.
fn syntax_error(input: &[u8], e: &serde_json::Error) -> JsonError {
    if let Err(u) = std::str::from_utf8(input) {
        let at = u.valid_up_to();
        let (line, column) = line_and_column(input, 0, 1, 1, at);
        return JsonError::at(
            format!("line {line} column {column}"),
            format!(
                "not UTF-8: byte 0x{:02X} cannot begin or continue a character here; canonical JSON must be UTF-8 (RFC 8259): a file saved as Latin-1 or Windows-1252 must be saved as UTF-8",
                input[at]
            ),
        );
    }
    JsonError::at(
        format!("line {} column {}", e.line(), e.column()),
        format!("not valid JSON: {e}"),
    )
}

/// A top-level value: an array's elements are documents of their own, so each is checked on
/// its own.
enum Top {
    Array(Vec<Checked>),
    Single(Checked),
}

/// A JSON value whose objects were checked for keys named twice.
struct Checked {
    value: Value,
    /// The first keys named twice, with their paths from this value (`.lines[0].uom`).
    repeated: Vec<Repeat>,
    /// How many keys were named twice in all.
    repeats: usize,
}

/// A key an object names twice.
struct Repeat {
    path: String,
    key: String,
}

impl Checked {
    fn plain(value: Value) -> Self {
        Checked {
            value,
            repeated: Vec::new(),
            repeats: 0,
        }
    }

    /// Takes `child`'s repeats in, their paths under `step` (`.key`, `[3]`).
    fn adopt(
        &mut self,
        child_repeated: Vec<Repeat>,
        child_repeats: usize,
        step: &dyn fmt::Display,
    ) {
        self.repeats += child_repeats;
        for r in child_repeated {
            if self.repeated.len() < MAX_REPEATS_LISTED {
                self.repeated.push(Repeat {
                    path: format!("{step}{}", r.path),
                    key: r.key,
                });
            }
        }
    }
}

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckedVisitor)
    }
}

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TopVisitor)
    }
}

/// Builds a [`Value`] as `serde_json` does, noting keys named twice (the first value kept).
struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Checked, E> {
        Ok(Checked::plain(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Checked, E> {
        Ok(Checked::plain(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Checked, E> {
        Ok(Checked::plain(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Checked, E> {
        Ok(Checked::plain(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Checked, E> {
        Ok(Checked::plain(Value::String(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Checked, E> {
        Ok(Checked::plain(Value::String(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked::plain(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked::plain(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Checked, D::Error> {
        Checked::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        let mut items = Vec::new();
        let mut out = Checked::plain(Value::Null);
        while let Some(item) = seq.next_element::<Checked>()? {
            if item.repeats > 0 {
                let step = format!("[{}]", items.len());
                out.adopt(item.repeated, item.repeats, &step);
            }
            items.push(item.value);
        }
        out.value = Value::Array(items);
        Ok(out)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut object = Map::new();
        let mut out = Checked::plain(Value::Null);
        while let Some(key) = map.next_key::<String>()? {
            match object.entry(key) {
                Entry::Occupied(first) => {
                    map.next_value::<IgnoredAny>()?;
                    out.repeats += 1;
                    if out.repeated.len() < MAX_REPEATS_LISTED {
                        out.repeated.push(Repeat {
                            path: format!(".{}", first.key()),
                            key: first.key().clone(),
                        });
                    }
                }
                Entry::Vacant(slot) => {
                    let child = map.next_value::<Checked>()?;
                    if child.repeats > 0 {
                        let step = format!(".{}", slot.key());
                        out.adopt(child.repeated, child.repeats, &step);
                    }
                    slot.insert(child.value);
                }
            }
        }
        out.value = Value::Object(object);
        Ok(out)
    }
}

/// A top-level value: an array's elements kept apart, anything else as [`CheckedVisitor`]
/// reads it.
struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Top, E> {
        CheckedVisitor.visit_bool(v).map(Top::Single)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Top, E> {
        CheckedVisitor.visit_i64(v).map(Top::Single)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Top, E> {
        CheckedVisitor.visit_u64(v).map(Top::Single)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Top, E> {
        CheckedVisitor.visit_f64(v).map(Top::Single)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Top, E> {
        CheckedVisitor.visit_str(v).map(Top::Single)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Top, E> {
        CheckedVisitor.visit_string(v).map(Top::Single)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Top, E> {
        CheckedVisitor.visit_unit().map(Top::Single)
    }
    fn visit_none<E: de::Error>(self) -> Result<Top, E> {
        CheckedVisitor.visit_none().map(Top::Single)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Top, D::Error> {
        Top::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Checked>()? {
            items.push(item);
        }
        Ok(Top::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Top, A::Error> {
        CheckedVisitor.visit_map(map).map(Top::Single)
    }
}

/// The kind a value names and the number it carries, read without the rest of it: what a
/// refusal is kept and found under ([`JsonError::kind`], [`JsonError::number`]).
fn identity(
    value: &Value,
    default_kind: Option<DocumentKind>,
) -> (Option<DocumentKind>, Option<String>) {
    let Some(object) = value.as_object() else {
        return (None, None);
    };
    let kind = match object.get("kind") {
        Some(Value::String(k)) => match k.as_str() {
            "invoice" => Some(DocumentKind::Invoice),
            "purchase_order" => Some(DocumentKind::PurchaseOrder),
            "order_confirmation" => Some(DocumentKind::OrderConfirmation),
            "ship_notice" => Some(DocumentKind::ShipNotice),
            _ => None,
        },
        None => default_kind,
        Some(_) => None,
    };
    let fields: &[&str] = match kind {
        Some(DocumentKind::Invoice) => &["invoice_number"],
        Some(DocumentKind::PurchaseOrder) => &["po_number"],
        _ => &["invoice_number", "po_number"],
    };
    let number = fields.iter().find_map(|f| match object.get(*f) {
        Some(Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= MAX_NUMBER_CHARS => {
            Some(n.clone())
        }
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    });
    (kind, number)
}

/// The document `checked` holds, or why it is none; a refusal carries the kind and number the
/// value names.
fn document_from_checked(
    checked: Checked,
    root: &str,
    default_kind: Option<DocumentKind>,
) -> Result<Document, JsonError> {
    // Read before the value is taken apart; kept for a refusal only.
    let (kind, number) = identity(&checked.value, default_kind);
    let result = match checked.repeated.first() {
        Some(first) => {
            let more = match checked.repeats {
                1 => String::new(),
                n => format!(" ({n} keys are named twice in this document)"),
            };
            Err(JsonError::at(
                format!("{root}{}", first.path),
                format!(
                    "the key {:?} is named twice in one object: a key may appear once, and which of its values was meant cannot be told{more}",
                    first.key
                ),
            ))
        }
        None => document_from_value(checked.value, root, default_kind),
    };
    result.map_err(|mut e| {
        e.kind = kind;
        e.number = number;
        e
    })
}

fn document_from_value(
    mut value: Value,
    root: &str,
    default_kind: Option<DocumentKind>,
) -> Result<Document, JsonError> {
    let Some(obj) = value.as_object_mut() else {
        return Err(JsonError::at(
            root,
            "expected a JSON object with \"kind\" and \"schema_version\"",
        ));
    };
    let kind = match obj.remove("kind") {
        Some(Value::String(k)) => k,
        None if default_kind.is_some() => default_kind
            .map(|k| k.as_str().to_string())
            .unwrap_or_default(),
        Some(_) => {
            return Err(JsonError::at(
                format!("{root}.kind"),
                "expected a string: \"invoice\" or \"purchase_order\"",
            ));
        }
        None => {
            return Err(JsonError::at(
                format!("{root}.kind"),
                "missing; expected \"invoice\" or \"purchase_order\"",
            ));
        }
    };
    match obj.get("schema_version") {
        None => {}
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(v) => {
            return Err(JsonError::at(
                format!("{root}.schema_version"),
                format!("unsupported schema_version {v}; this gateway reads {SCHEMA_VERSION}"),
            ));
        }
    }
    let located = |e: serde_path_to_error::Error<serde_json::Error>| {
        let path = e.path().to_string();
        let location = if path == "." {
            root.to_string()
        } else {
            format!("{root}.{path}")
        };
        JsonError::at(location, e.into_inner().to_string())
    };
    match kind.as_str() {
        "invoice" => serde_path_to_error::deserialize::<_, Invoice>(value)
            .map(Document::Invoice)
            .map_err(located),
        "purchase_order" => serde_path_to_error::deserialize::<_, PurchaseOrder>(value)
            .map(Document::PurchaseOrder)
            .map_err(located),
        other => Err(JsonError::at(
            format!("{root}.kind"),
            format!("unknown kind {other:?}; supported: \"invoice\", \"purchase_order\""),
        )),
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Checked::deserialize(deserializer)?;
        document_from_checked(value, "$", None).map_err(serde::de::Error::custom)
    }
}

/// Canonical JSON of one document, pretty-printed (for files and humans).
pub fn to_json(doc: &Document) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_default()
}

/// Canonical JSON of one document on a single line (JSON Lines, bus bodies).
pub fn to_json_line(doc: &Document) -> String {
    serde_json::to_string(doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(number: &str) -> String {
        format!(
            r#"{{"schema_version":1,"kind":"invoice","invoice_number":"{number}","invoice_date":"2026-03-15","currency":"USD","supplier":{{"name":"Acme"}},"lines":[{{"line_number":1,"description":"Widgets","quantity":"2","unit_price":"250.00","amount":"500.00"}}],"subtotal":"500.00","total":"500.00"}}"#
        )
    }

    /// A line that is not valid JSON: a trailing comma, as the QA report's line 2.
    const TRAILING_COMMA: &str = r#"{"schema_version":1,"kind":"invoice","invoice_number":"BAD",}"#;

    /// Reads `input` and checks that every byte of it is accounted for: each is white space,
    /// part of an item's span (a document or a located error), or the one comma that ended
    /// an array element before the value reading went on at. Spans come in input order and do
    /// not overlap (the elements of one array share its span), and every error names a line
    /// within its span.
    fn accounted(input: &str) -> Vec<JsonItem> {
        let bytes = input.as_bytes();
        let items = read_json(bytes, None);
        let mut next = 0;
        let mut previous: Option<Range<usize>> = None;
        for item in &items {
            if previous.as_ref() != Some(&item.span) {
                assert!(item.span.start >= next, "overlapping spans: {items:#?}");
                let gap = &bytes[next..item.span.start];
                assert!(
                    holds_nothing(gap),
                    "bytes {next}..{} belong to no item: {:?}",
                    item.span.start,
                    String::from_utf8_lossy(gap)
                );
                next = item.span.end;
                previous = Some(item.span.clone());
            }
            if let Err(e) = &item.result {
                let newlines = |b: &[u8]| b.iter().filter(|&&b| b == b'\n').count();
                let first = 1 + newlines(&bytes[..item.span.start]);
                let last = first + newlines(&bytes[item.span.clone()]);
                let line: usize = e
                    .location
                    .strip_prefix("line ")
                    .and_then(|l| l.split(' ').next())
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(item.line);
                assert!(
                    (first..=last).contains(&line) && item.line == first,
                    "{e} is not within lines {first} to {last} of its span"
                );
            }
        }
        let rest = &bytes[next..];
        assert!(
            holds_nothing(rest),
            "the end of the input belongs to no item: {:?}",
            String::from_utf8_lossy(rest)
        );
        items
    }

    /// Whether `gap` between items is nothing to read: white space, empty arrays (which hold
    /// no document), and at most one comma (the end of an element reading went on after).
    fn holds_nothing(gap: &[u8]) -> bool {
        let text: String = String::from_utf8_lossy(gap)
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        matches!(text.replace("[]", "").as_str(), "" | ",")
    }

    /// The numbers of the documents read, and the locations of the errors, in input order.
    fn outcome(items: &[JsonItem]) -> (Vec<String>, Vec<String>) {
        let mut numbers = Vec::new();
        let mut errors = Vec::new();
        for item in items {
            match &item.result {
                Ok(d) => numbers.push(d.number().to_string()),
                Err(e) => errors.push(e.location.clone()),
            }
        }
        (numbers, errors)
    }

    /// A syntax error used to end the input: every document after it was dropped without a
    /// word (the REST answer, the ledger and the file drop's errors.txt named none of them).
    /// Now reading goes on at the next line, wherever the bad line is.
    #[test]
    fn a_bad_line_anywhere_leaves_every_other_line_read() {
        let [a, b, c] = [invoice("A"), invoice("B"), invoice("C")];
        for (input, bad_line) in [
            (format!("{TRAILING_COMMA}\n{a}\n{b}\n{c}\n"), 1),
            (format!("{a}\n{TRAILING_COMMA}\n{b}\n{c}\n"), 2),
            (format!("{a}\n{b}\n{c}\n{TRAILING_COMMA}"), 4),
            // Windows line ends, and a blank line after the bad one.
            (format!("{a}\r\n{TRAILING_COMMA}\r\n\r\n{b}\r\n{c}\r\n"), 2),
        ] {
            let items = accounted(&input);
            let (numbers, errors) = outcome(&items);
            assert_eq!(numbers, ["A", "B", "C"], "{input}");
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0].starts_with(&format!("line {bad_line} column ")),
                "{errors:?}"
            );
            let e = items.iter().find_map(|i| i.result.as_ref().err());
            let message = e.map(|e| e.message.as_str()).unwrap_or_default();
            assert!(
                message.contains("trailing comma")
                    && message.contains(&format!("line {bad_line} was not read")),
                "{message}"
            );
            if bad_line == 2 && !input.contains('\r') {
                // Documents after the error keep their place and line in their names.
                let named: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
                assert_eq!(named[3], "document 4 (line 4)", "{named:?}");
            }
        }
    }

    /// A line left open (its closing brace missing) breaks where the next line begins: that
    /// next line is still read as the document it is.
    #[test]
    fn a_line_left_open_does_not_take_the_next_one() {
        let input = format!(
            "{}\n{}\n{}\n",
            invoice("A"),
            r#"{"schema_version":1,"kind":"invoice","invoice_number":"OPEN""#,
            invoice("B")
        );
        let items = accounted(&input);
        let (numbers, errors) = outcome(&items);
        assert_eq!(numbers, ["A", "B"]);
        let open = r#"{"schema_version":1,"kind":"invoice","invoice_number":"OPEN""#;
        assert_eq!(errors, [format!("line 2 column {}", open.len() + 1)]);
    }

    /// A pretty-printed document broken in the middle: one error covering its lines, the
    /// documents before and after it read, and nothing inside it read as a document of its
    /// own (its nested objects stand on lines of their own, indented deeper).
    #[test]
    fn a_pretty_printed_document_broken_in_the_middle_is_one_located_error() {
        let pretty = |n: &str| {
            serde_json::from_str::<Value>(&invoice(n))
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_default()
        };
        let broken = pretty("B").replace(r#""currency": "USD","#, r#""currency": ,"#);
        assert_ne!(broken, pretty("B"));
        let input = format!("{}\n{broken}\n{}\n", pretty("A"), pretty("C"));
        let items = accounted(&input);
        let (numbers, errors) = outcome(&items);
        assert_eq!(numbers, ["A", "C"], "{errors:?}");
        assert_eq!(errors.len(), 1, "{errors:?}");
        let first = pretty("A").lines().count() + 1;
        let last = first + broken.lines().count() - 1;
        let e = items.iter().find_map(|i| i.result.as_ref().err());
        assert!(
            e.is_some_and(|e| e
                .message
                .contains(&format!("lines {first} to {last} were not read"))),
            "{e:?}"
        );

        // An array of documents, one on each line, broken in its second: the array is the
        // broken value (its elements are inside it); what follows the array is read.
        let input = format!(
            "[\n  {},\n  {TRAILING_COMMA},\n  {}\n]\n{}\n",
            invoice("A"),
            invoice("B"),
            invoice("C")
        );
        let items = accounted(&input);
        let (numbers, errors) = outcome(&items);
        assert_eq!(numbers, ["C"]);
        assert_eq!(errors.len(), 1);
        let e = items.iter().find_map(|i| i.result.as_ref().err());
        assert!(
            e.is_some_and(|e| e.message.contains("lines 1 to 5 were not read")),
            "{e:?}"
        );

        // Array elements written at the array's own depth are read after the break.
        let input = format!(
            "[{},\n{TRAILING_COMMA},\n{},\n{}]\n",
            invoice("A"),
            invoice("B"),
            invoice("C")
        );
        let (numbers, errors) = outcome(&accounted(&input));
        assert_eq!(numbers, ["B", "C"], "{errors:?}");
    }

    /// Whatever byte is lost from a JSON Lines input, nothing panics, every byte is still
    /// accounted for, and every line that is still whole is read.
    #[test]
    fn every_byte_is_accounted_for_whichever_byte_is_lost() {
        let lines = [invoice("A"), invoice("B"), invoice("C")];
        let input = format!("{}\n{}\n{}\n", lines[0], lines[1], lines[2]);
        for cut in 0..input.len() {
            let mut damaged = input.as_bytes().to_vec();
            damaged.remove(cut);
            let Ok(damaged) = String::from_utf8(damaged) else {
                continue;
            };
            let items = accounted(&damaged);
            let (numbers, _) = outcome(&items);
            let hit = damaged[..cut].matches('\n').count();
            for (i, n) in ["A", "B", "C"].iter().enumerate() {
                if i != hit {
                    assert!(
                        numbers.iter().any(|x| x == n),
                        "cut {cut}: {n} lost: {numbers:?}"
                    );
                }
            }
        }
    }

    /// Lines that each open a value and never close it made every later line parse up to
    /// the nesting limit before failing (two million lines of `[` took minutes): past a budget
    /// the rest is reported with the error, at once.
    #[test]
    fn input_that_never_closes_a_value_is_given_up_on_in_linear_time() {
        for line in ["[", "{\"a\":"] {
            let input = format!("{line}\n").repeat(40_000);
            let started = std::time::Instant::now();
            let items = accounted(&input);
            // A fraction of a second; without the budget, about a minute.
            assert!(started.elapsed() < std::time::Duration::from_secs(10));
            let (numbers, errors) = outcome(&items);
            assert!(numbers.is_empty());
            assert!(errors.len() <= 2, "{}", errors.len());
            let last = items.iter().rev().find_map(|i| i.result.as_ref().err());
            assert!(
                last.is_some_and(|e| e.message.contains("lines ")
                    && e.message.contains("to 40000 were not read")),
                "{last:?}"
            );
        }
    }

    proptest::proptest! {
        /// Whatever the input (JSON's own characters in any order, lines and indentation),
        /// reading ends, never panics, and accounts for every byte.
        #[test]
        fn any_input_is_read_to_its_end_and_accounted_for(
            input in "[\\[\\]{}\",: \n\t0-9a-z\\\\-]{0,300}"
        ) {
            accounted(&input);
        }
    }

    /// A byte that is not UTF-8 (a Latin-1 file) is named as such, at its line and column;
    /// the other lines are read.
    #[test]
    fn a_byte_that_is_not_utf8_is_named_with_its_place() {
        let a = invoice("A");
        let mut latin1 = invoice("Caf\u{1}").into_bytes();
        let at = latin1.iter().position(|&b| b == 1).unwrap_or_default();
        latin1[at] = 0xE9;
        let mut input = format!("{a}\n").into_bytes();
        input.extend_from_slice(&latin1);
        input.extend_from_slice(format!("\n{}\n", invoice("B")).as_bytes());
        let items = read_json(&input, None);
        let (numbers, errors) = outcome(&items);
        assert_eq!(numbers, ["A", "B"]);
        assert_eq!(errors, [format!("line 2 column {}", at + 1)]);
        let e = items.iter().find_map(|i| i.result.as_ref().err());
        assert!(
            e.is_some_and(|e| e.message.starts_with("not UTF-8: byte 0xE9")),
            "{e:?}"
        );
        let lone = from_json(&latin1);
        assert!(
            lone.as_ref()
                .is_err_and(|e| e.message.starts_with("not UTF-8: byte 0xE9")
                    && e.location == format!("line 1 column {}", at + 1)),
            "{lone:?}"
        );
        // UTF-16 is said to be UTF-16.
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(a.bytes().flat_map(|b| [b, 0]))
            .collect();
        let items = read_json(&utf16, None);
        assert_eq!(items.len(), 1);
        assert!(
            items[0]
                .result
                .as_ref()
                .is_err_and(|e| e.message.contains("UTF-16")),
            "{:?}",
            items[0].result
        );
        assert!(from_json(&utf16).is_err_and(|e| e.message.contains("UTF-16")));
    }

    /// A key named twice used to be read as its last value (a body with two invoice numbers
    /// was delivered under the second): refused, at the key's path, in every reader.
    #[test]
    fn a_key_named_twice_is_refused_at_its_path() {
        let twice = invoice("DK-1").replace(
            r#""total":"500.00"}"#,
            r#""total":"500.00","invoice_number":"DK-2"}"#,
        );
        let e = from_json(twice.as_bytes()).err();
        assert_eq!(
            e.as_ref().map(|e| e.location.as_str()),
            Some("$.invoice_number"),
            "{e:?}"
        );
        assert!(
            e.as_ref()
                .is_some_and(|e| e.message.contains("named twice")),
            "{e:?}"
        );
        // The refusal is kept under the first number.
        assert_eq!(e.as_ref().and_then(|e| e.number.as_deref()), Some("DK-1"));
        assert_eq!(e.as_ref().and_then(|e| e.kind), Some(DocumentKind::Invoice));
        // Deep inside, in JSON Lines, in an array element.
        let nested = invoice("N").replace(r#""quantity":"2""#, r#""quantity":"2","quantity":"3""#);
        let input = format!("{}\n{nested}\n", invoice("A"));
        let (numbers, errors) = outcome(&accounted(&input));
        assert_eq!(numbers, ["A"]);
        assert_eq!(errors, ["document 2 (line 2): $.lines[0].quantity"]);
        let (_, errors) = outcome(&accounted(&format!("[{}, {nested}]", invoice("A"))));
        assert_eq!(errors, ["$[1].lines[0].quantity"]);
        // Through serde too (bus bodies).
        assert!(serde_json::from_str::<Document>(&nested).is_err());
    }

    /// A document refused for one field still says what it is: the kind and number are read
    /// on their own, so its refusal is kept and found under them.
    #[test]
    fn a_refused_document_keeps_its_kind_and_number() {
        for (from, to) in [
            (r#""unit_price":"250.00""#, r#""unit_price":250.00"#),
            (r#""unit_price":"250.00""#, r#""unit_price":"2,50""#),
            (
                r#""invoice_date":"2026-03-15""#,
                r#""invoice_date":"15/03/2026""#,
            ),
            (r#""total":"500.00""#, r#""total":"500.00","colour":"red""#),
        ] {
            let bad = invoice("NUM-R6").replace(from, to);
            let e = from_json(bad.as_bytes()).err();
            assert_eq!(
                e.as_ref().and_then(|e| e.number.as_deref()),
                Some("NUM-R6"),
                "{to}"
            );
            assert_eq!(
                e.as_ref().and_then(|e| e.kind),
                Some(DocumentKind::Invoice),
                "{to}"
            );
        }
        let po = r#"{"kind":"purchase_order","po_number":4711,"order_date":"today"}"#;
        let e = from_json(po.as_bytes()).err();
        assert_eq!(e.as_ref().and_then(|e| e.number.as_deref()), Some("4711"));
        assert_eq!(
            e.as_ref().and_then(|e| e.kind),
            Some(DocumentKind::PurchaseOrder)
        );
        let e = from_json(TRAILING_COMMA.as_bytes()).err();
        assert_eq!(e.map(|e| (e.kind, e.number)), Some((None, None)));
    }

    /// A UTF-8 byte-order mark, which Windows tools write, is read past, in both readers; a
    /// mark in the middle is still a syntax error.
    #[test]
    fn a_leading_byte_order_mark_is_ignored() {
        let doc =
            br#"{"schema_version": 1, "kind": "invoice", "invoice_number": "B-1", "lines": []}"#;
        let mut marked = b"\xEF\xBB\xBF".to_vec();
        marked.extend_from_slice(doc);
        let plain = from_json(doc).map(|d| to_json(&d)).ok();
        assert!(plain.is_some());
        assert_eq!(from_json(&marked).map(|d| to_json(&d)).ok(), plain);
        let lines = from_json_lines(&marked);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].is_ok(), "{:?}", lines[0]);
        let mut twice = doc.to_vec();
        twice.extend_from_slice(&marked);
        assert!(from_json_lines(&twice).iter().any(Result::is_err));
    }
}
