//! Hostile inputs: each is refused with a clear, located error; nothing is fetched; memory stays
//! bounded because limits trip before anything grows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::io::ErrorKind;
use std::net::TcpListener;

use adapter_cxml::CxmlError;
use adapter_cxml::reader::{Limits, parse};
use gateway_core::testkit::repo_root;

fn hostile(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/data/hostile").join(name)).unwrap()
}

fn error_of(raw: &[u8]) -> CxmlError {
    let parsed = parse(raw, &Limits::default());
    assert!(parsed.trees.is_empty(), "a hostile input gave a tree");
    parsed.error.expect("a hostile input must give an error")
}

#[test]
fn billion_laughs_is_refused_at_the_doctype() {
    let e = error_of(&hostile("billion-laughs.xml"));
    assert!(matches!(e, CxmlError::Entity { .. }), "{e}");
    assert!(e.to_string().contains("declares entities"), "{e}");
    assert!(e.location().contains("line 2"), "{e}");
}

#[test]
fn external_entity_to_a_file_is_refused() {
    let e = error_of(&hostile("xxe-file.xml"));
    assert!(matches!(e, CxmlError::Entity { .. }), "{e}");
    assert!(e.to_string().contains("external entity"), "{e}");
}

#[test]
fn parameter_entity_to_a_url_is_refused() {
    let e = error_of(&hostile("xxe-parameter-entity.xml"));
    assert!(matches!(e, CxmlError::Entity { .. }), "{e}");
}

#[test]
fn unknown_entity_is_refused_with_its_path() {
    let e = error_of(&hostile("unknown-entity.xml"));
    assert!(matches!(e, CxmlError::Entity { .. }), "{e}");
    assert!(e.to_string().contains("&undefined;"), "{e}");
    assert!(
        e.location()
            .starts_with("/cXML/Header/From/Credential/Identity (line 2"),
        "{e}"
    );
}

#[test]
fn many_attributes_hit_the_attribute_limit() {
    let e = error_of(&hostile("many-attributes.xml"));
    assert!(
        matches!(e, CxmlError::Limit { limit, .. } if limit == Limits::default().max_attributes),
        "{e}"
    );
}

#[test]
fn bad_utf8_is_located() {
    let e = error_of(&hostile("bad-utf8.xml"));
    assert!(matches!(e, CxmlError::Syntax { .. }), "{e}");
    assert!(e.to_string().contains("UTF-8"), "{e}");
    assert!(e.location().starts_with("line 1, column "), "{e}");
}

#[test]
fn binary_junk_after_lt_is_a_syntax_error() {
    let e = error_of(&hostile("binary-junk-lt.xml"));
    assert!(matches!(e, CxmlError::Syntax { .. }), "{e}");
}

#[test]
fn deep_nesting_stops_at_the_depth_limit() {
    let mut raw = String::from("<cXML>");
    for _ in 0..100_000 {
        raw.push_str("<a>");
    }
    let e = error_of(raw.as_bytes());
    assert!(
        matches!(e, CxmlError::Limit { limit, .. } if limit == Limits::default().max_depth),
        "{e}"
    );
    assert!(e.location().starts_with("/cXML/a/a/a"), "{e}");
}

#[test]
fn huge_attribute_is_refused() {
    let raw = format!(
        "<cXML payloadID=\"{}\" timestamp=\"2026-01-01T00:00:00Z\"/>",
        "x".repeat(2 * 1024 * 1024)
    );
    let e = error_of(raw.as_bytes());
    assert!(matches!(e, CxmlError::Limit { .. }), "{e}");
    assert!(e.to_string().contains("payloadID"), "{e}");
}

#[test]
fn huge_text_is_refused() {
    let raw = format!(
        "<cXML><Header>{}</Header></cXML>",
        "y".repeat(2 * 1024 * 1024)
    );
    let e = error_of(raw.as_bytes());
    assert!(matches!(e, CxmlError::Limit { .. }), "{e}");
    assert!(e.location().starts_with("/cXML/Header"), "{e}");
}

#[test]
fn too_many_elements_are_refused() {
    let limits = Limits {
        max_elements: 100,
        ..Limits::default()
    };
    let raw = format!("<cXML>{}</cXML>", "<a/>".repeat(200));
    let parsed = parse(raw.as_bytes(), &limits);
    let e = parsed.error.expect("error");
    assert!(matches!(e, CxmlError::Limit { limit: 100, .. }), "{e}");
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let limits = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    let parsed = parse(b"<cXML>0123456789</cXML>", &limits);
    assert!(matches!(
        parsed.error,
        Some(CxmlError::Limit { limit: 10, .. })
    ));
}

/// An XXE pointing at a local listener: the decode is synchronous, so if anything had tried to
/// fetch the DTD or the entity, the connection would be waiting in the listener's backlog when
/// decode returns. A non-blocking accept that finds nothing proves no connection was made.
#[test]
fn xxe_and_doctype_urls_are_never_fetched() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let with_entity = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE cXML SYSTEM \"http://127.0.0.1:{port}/cXML.dtd\" [\n \
         <!ENTITY xxe SYSTEM \"http://127.0.0.1:{port}/secret\">\n]>\n\
         <cXML payloadID=\"x@y\" timestamp=\"2026-01-01T00:00:00Z\"><Header>&xxe;</Header></cXML>"
    );
    let e = error_of(with_entity.as_bytes());
    assert!(matches!(e, CxmlError::Entity { .. }), "{e}");

    // A DOCTYPE alone (the normal cXML case) is accepted and still never fetched.
    let doctype_only = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE cXML SYSTEM \"http://127.0.0.1:{port}/cXML.dtd\">\n\
         <cXML payloadID=\"x@y\" timestamp=\"2026-01-01T00:00:00Z\"><Header/></cXML>"
    );
    let parsed = parse(doctype_only.as_bytes(), &Limits::default());
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    assert_eq!(parsed.trees.len(), 1);
    let file_doctype = "<!DOCTYPE cXML SYSTEM \"file:///etc/passwd\"><cXML><Header/></cXML>";
    let parsed = parse(file_doctype.as_bytes(), &Limits::default());
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    let root = parsed.trees[0].root().unwrap();
    assert_eq!(root.find("Header").map(|h| h.text()), Some(""));

    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Err(e) => panic!("unexpected listener error {e}"),
        Ok((_, peer)) => panic!("the decoder connected to the listener from {peer}"),
    }
}

#[test]
fn predefined_and_character_references_are_expanded() {
    let raw = "<cXML a=\"x&amp;y&#65;\"><T>&lt;b&gt; &quot;q&quot; &apos;&#x263A;</T></cXML>";
    let parsed = parse(raw.as_bytes(), &Limits::default());
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    let root = parsed.trees[0].root().unwrap();
    assert_eq!(root.attr("a"), Some("x&yA"));
    assert_eq!(root.find("T").unwrap().text(), "<b> \"q\" '\u{263A}");
}

#[test]
fn bom_latin1_and_windows_1252_are_read() {
    let mut raw = b"\xEF\xBB\xBF<cXML><T>caf\xC3\xA9</T></cXML>".to_vec();
    let parsed = parse(&raw, &Limits::default());
    assert_eq!(
        parsed.trees[0].root().unwrap().find("T").unwrap().text(),
        "café"
    );
    raw = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><cXML><T>caf\xE9</T></cXML>".to_vec();
    let parsed = parse(&raw, &Limits::default());
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    assert_eq!(
        parsed.trees[0].root().unwrap().find("T").unwrap().text(),
        "café"
    );
    // A BOM says UTF-8 even when the declaration says otherwise.
    raw = b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><cXML><T>caf\xC3\xA9</T></cXML>"
        .to_vec();
    let parsed = parse(&raw, &Limits::default());
    assert_eq!(
        parsed.trees[0].root().unwrap().find("T").unwrap().text(),
        "café"
    );
    // Windows-1252 differs from ISO-8859-1 at 0x80..=0x9F: curly quotes, the euro sign.
    raw = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><cXML><T>Men\x92s \x93best\x94 \x80</T></cXML>"
        .to_vec();
    let parsed = parse(&raw, &Limits::default());
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    assert_eq!(
        parsed.trees[0].root().unwrap().find("T").unwrap().text(),
        "Men\u{2019}s \u{201C}best\u{201D} \u{20AC}"
    );
    // Labelled ISO-8859-1 by a Windows system: read as browsers read it, 0x92 the apostrophe
    // rather than a C1 control code.
    raw = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><cXML><T>Men\x92s</T></cXML>".to_vec();
    let parsed = parse(&raw, &Limits::default());
    assert_eq!(
        parsed.trees[0].root().unwrap().find("T").unwrap().text(),
        "Men\u{2019}s"
    );
    // Any encoding of the WHATWG Encoding Standard: 請求書 ("invoice") in Shift_JIS, as
    // Python's codec writes it.
    let parsed = parse(
        b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><cXML><T>\x90\xbf\x8b\x81\x8f\x91</T></cXML>",
        &Limits::default(),
    );
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    assert_eq!(
        parsed.trees[0].root().unwrap().find("T").unwrap().text(),
        "請求書"
    );
    // Bytes that are not text in the declared encoding are refused at their line, not replaced.
    let parsed = parse(
        b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n<cXML><T>\x90</T></cXML>",
        &Limits::default(),
    );
    let error = parsed.error.unwrap().to_string();
    assert!(
        error.contains("line 2, byte 53") && error.contains("not Shift_JIS text"),
        "{error}"
    );
    let parsed = parse(
        b"<?xml version=\"1.0\" encoding=\"x-martian\"?><cXML/>",
        &Limits::default(),
    );
    let error = parsed.error.unwrap().to_string();
    assert!(
        error.contains("\"x-martian\" is not supported") && error.contains("Shift_JIS"),
        "{error}"
    );
    // UTF-16, which every XML processor must read, in either byte order; half a character is
    // refused at its place.
    let doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><cXML><T>Müller €</T></cXML>";
    for (bom, unit) in [
        (b"\xFF\xFE", u16::to_le_bytes as fn(u16) -> [u8; 2]),
        (b"\xFE\xFF", u16::to_be_bytes as fn(u16) -> [u8; 2]),
    ] {
        let mut raw = bom.to_vec();
        raw.extend(doc.encode_utf16().flat_map(unit));
        let parsed = parse(&raw, &Limits::default());
        assert!(parsed.error.is_none(), "{:?}", parsed.error);
        assert_eq!(
            parsed.trees[0].root().unwrap().find("T").unwrap().text(),
            "Müller €"
        );
    }
    let parsed = parse(b"\xFF\xFE<\x00c\x00\x00\xDC", &Limits::default());
    let error = parsed.error.unwrap().to_string();
    assert!(
        error.contains("invalid UTF-16") && error.contains("line 1, column 3"),
        "{error}"
    );
}

#[test]
fn paths_number_repeated_siblings_and_give_line_and_column() {
    let raw = "<cXML>\n<R>\n  <O/>\n  <O><I x=\"1\"/></O>\n</R></cXML>";
    let parsed = parse(raw.as_bytes(), &Limits::default());
    let root = parsed.trees[0].root().unwrap();
    let second = root.find("R").unwrap().children_named("O").nth(1).unwrap();
    let item = second.child("I").unwrap();
    assert_eq!(item.path(), "/cXML/R/O[2]/I");
    assert_eq!(item.line_column(), (4, 6));
    assert_eq!(item.location(), "/cXML/R/O[2]/I (line 4, column 6)");
}

#[test]
fn mismatched_end_tag_is_located() {
    let raw = "<cXML>\n<Header>\n</Heder></cXML>";
    let e = error_of(raw.as_bytes());
    assert!(matches!(e, CxmlError::Syntax { .. }), "{e}");
    assert!(e.location().contains("line 3"), "{e}");
}

#[test]
fn names_that_are_not_xml_names_are_refused_with_their_place() {
    // Found by the fuzzer: `domai%n="…"` was read, kept in the extensions, and could not be
    // written back. XML does not allow such a name, so the document is not well-formed.
    let e = error_of(b"<cXML>\n<Extrinsic domai%n=\"x\"/></cXML>");
    assert!(matches!(e, CxmlError::Syntax { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("domai%n") && text.contains("line 2"),
        "{text}"
    );
    let e = error_of("<cXML>\n<1Header/></cXML>".as_bytes());
    assert!(matches!(e, CxmlError::Syntax { .. }), "{e}");
    // Names XML allows, beyond ASCII and with prefixes, are read.
    let parsed = parse(
        "<cXML xml:lang=\"en\"><Straße _a.b-c=\"1\" ·x=\"2\"/></cXML>".as_bytes(),
        &Limits::default(),
    );
    assert!(parsed.error.is_some_and(|e| e.to_string().contains("·x")));
    let parsed = parse(
        "<cXML xml:lang=\"en\"><Straße _a.b-c=\"1\" x·=\"2\"/></cXML>".as_bytes(),
        &Limits::default(),
    );
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    assert_eq!(parsed.trees.len(), 1);
}

#[test]
fn concatenated_documents_are_read_one_by_one() {
    let raw = "<?xml version=\"1.0\"?><cXML a=\"1\"/>\n<?xml version=\"1.0\"?>\n<!DOCTYPE cXML SYSTEM \"x.dtd\"><cXML a=\"2\"><b/></cXML>";
    let parsed = parse(raw.as_bytes(), &Limits::default());
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    assert_eq!(parsed.trees.len(), 2);
    assert_eq!(parsed.trees[1].root().unwrap().attr("a"), Some("2"));
    assert_eq!(
        parsed.trees[1].doctype.as_deref(),
        Some("cXML SYSTEM \"x.dtd\"")
    );
}

#[test]
fn text_is_joined_across_comments_children_and_references() {
    let raw = "<cXML>\r\n<T>a\r\nb</T><U>x<!-- c -->y</U><V>p<b>inner</b>q&amp;r</V>\
               <W a=\"1&#10;2\" b=\"plain\"><![CDATA[<raw>]]> tail</W></cXML>";
    let parsed = parse(raw.as_bytes(), &Limits::default());
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    let root = parsed.trees[0].root().unwrap();
    assert_eq!(root.find("T").unwrap().text(), "a\nb");
    assert_eq!(root.find("U").unwrap().text(), "xy");
    assert_eq!(root.find("V").unwrap().text(), "pq&r");
    assert_eq!(root.find("V/b").unwrap().text(), "inner");
    let w = root.find("W").unwrap();
    assert_eq!(w.text(), "<raw> tail");
    assert_eq!(w.attr("a"), Some("1\n2"));
    assert_eq!(w.attr("b"), Some("plain"));
    assert_eq!(w.line_column(), (3, 52));
}

/// An endless stream through `decode_reader` stops at the size limit with a reject.
#[test]
fn endless_stream_is_cut_at_the_size_limit() {
    use adapter_cxml::CxmlCodec;
    use gateway_core::{Decode, DecodeItem, PartnerProfile};
    let codec = CxmlCodec {
        limits: Limits {
            max_bytes: 1024,
            ..Limits::default()
        },
    };
    let mut endless = std::io::BufReader::new(std::io::repeat(b'<'));
    let mut items = Vec::new();
    codec
        .decode_reader(&mut endless, &PartnerProfile::anonymous(), &mut |i| {
            items.push(i)
        })
        .unwrap();
    assert_eq!(items.len(), 1);
    let DecodeItem::Reject(r) = &items[0] else {
        panic!("expected a reject")
    };
    assert!(r.message.contains("exceeds the limit of 1024"), "{r:?}");
}

/// Every corpus and sample cXML file, truncated at many points and with bytes flipped by a
/// fixed pseudo-random sequence: the decoder returns documents or located rejects, never panics.
#[test]
fn mutated_documents_never_panic() {
    use adapter_cxml::CxmlCodec;
    use gateway_core::testkit::{corpus_or_skip, files_under};
    use gateway_core::{Decode, PartnerProfile};
    let mut files = files_under(&repo_root().join("samples/cxml"));
    for folder in ["cxml-invoice", "cxml-order", "cxml-other"] {
        if let Some(dir) = corpus_or_skip(folder, "mutated_documents").unwrap() {
            files.extend(files_under(&dir));
        }
    }
    files.retain(|f| f.extension().and_then(|e| e.to_str()) == Some("xml"));
    assert!(files.len() >= 4);
    let codec = CxmlCodec::default();
    let partner = PartnerProfile::anonymous();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut runs = 0;
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let len = raw.len() as u64;
        for _ in 0..60 {
            let cut = (next() % len) as usize;
            let d = codec.decode(&raw[..cut], &partner);
            assert!(
                d.rejects.iter().all(|r| !r.location.is_empty()),
                "{}",
                f.display()
            );
            let mut m = raw.clone();
            for _ in 0..4 {
                let i = (next() % len) as usize;
                m[i] = (next() & 0xFF) as u8;
            }
            let d = codec.decode(&m, &partner);
            assert!(
                !d.documents.is_empty() || !d.rejects.is_empty(),
                "{}: nothing came back",
                f.display()
            );
            runs += 2;
        }
    }
    assert!(runs > 400);
}

/// Text interleaved with child elements many times is joined in linear time and memory (a
/// copy-on-each-chunk join would need gigabytes here).
#[test]
fn interleaved_text_and_children_join_linearly() {
    let mut raw = String::from("<cXML><r>");
    for _ in 0..50_000 {
        raw.push_str("xxxxxxxxx&amp;<a/>");
    }
    raw.push_str("</r></cXML>");
    let parsed = parse(raw.as_bytes(), &Limits::default());
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    let r = parsed.trees[0].root().unwrap().child("r").unwrap();
    assert_eq!(r.text().len(), 500_000);
    assert_eq!(r.children().count(), 50_000);
}

/// Neither a parsed tree's `Debug` nor an error about the secret's text shows the secret.
#[test]
fn the_shared_secret_never_shows_in_debug_or_errors() {
    let raw = "<cXML><Header><Sender><Credential domain=\"D\"><Identity>i</Identity>\
               <SharedSecret>hunter2</SharedSecret></Credential></Sender></Header></cXML>";
    let parsed = parse(raw.as_bytes(), &Limits::default());
    let root = parsed.trees[0].root().unwrap();
    let shown = format!(
        "{parsed:?} {root:?} {:?}",
        root.find("Header/Sender/Credential/SharedSecret")
    );
    assert!(!shown.contains("hunter2"), "{shown}");
    let raw = raw.replace("hunter2", "hun&ter2;");
    let e = error_of(raw.as_bytes());
    assert!(!e.to_string().contains("ter2"), "{e}");
    assert!(e.location().contains("SharedSecret"), "{e}");
}
