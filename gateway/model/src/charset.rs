//! Text in the 8-bit character set many suppliers' systems still write: Windows-1252.
//!
//! X12 declares no character set, a CSV file carries none, and a cXML document may declare
//! one. What arrives is UTF-8 or, from older systems and spreadsheets on Windows,
//! Windows-1252 (of which ISO-8859-1 is the printable subset). Replacing the bytes that are
//! not UTF-8 with U+FFFD would turn `Müller` into `M�ller` on its way to Coupa, so every
//! reader decodes them here instead, and every writer that serves such a partner encodes here.

use std::borrow::Cow;

/// The character set a partner's system writes and reads, where the format does not say
/// (X12, CSV). Writers need it: a Windows-1252 system shows the two bytes of a UTF-8 `é` as
/// `Ã©`. Readers mostly do not: under [`Charset::Utf8`], the default, they take UTF-8 and read
/// anything else as Windows-1252 ([`utf8_or_windows_1252`]); [`Charset::Windows1252`] reads
/// every byte as Windows-1252, for the rare text whose Windows-1252 bytes happen to be valid
/// UTF-8 too (`Ö€` is the two bytes of `Ѐ`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Charset {
    #[default]
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    #[serde(
        rename = "windows-1252",
        alias = "cp1252",
        alias = "Windows-1252",
        alias = "latin1",
        alias = "iso-8859-1"
    )]
    Windows1252,
}

impl Charset {
    /// `text` in this character set; a character it lacks is refused ([`to_windows_1252`]).
    pub fn encode(self, text: &str) -> Result<Cow<'_, [u8]>, Unmappable> {
        match self {
            Charset::Utf8 => Ok(Cow::Borrowed(text.as_bytes())),
            Charset::Windows1252 => to_windows_1252(text),
        }
    }

    /// `bytes` as text: under `Utf8`, UTF-8 or else Windows-1252; under `Windows1252`, always
    /// Windows-1252. Borrowed when nothing needs decoding.
    pub fn read(self, bytes: &[u8]) -> Cow<'_, str> {
        match self {
            Charset::Utf8 => utf8_or_windows_1252(bytes),
            Charset::Windows1252 => match std::str::from_utf8(bytes) {
                Ok(ascii) if bytes.is_ascii() => Cow::Borrowed(ascii),
                _ => Cow::Owned(from_windows_1252(bytes)),
            },
        }
    }

    /// Whether this character set has a byte for `c`.
    pub fn carries(self, c: char) -> bool {
        match self {
            Charset::Utf8 => true,
            Charset::Windows1252 => windows_1252_byte(c).is_some(),
        }
    }
}

/// The characters Windows-1252 puts at 0x80..=0x9F, where ISO-8859-1 has C1 control codes.
/// The five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) stand for the
/// control code of the same value, as the WHATWG Encoding Standard decodes them, so every byte
/// decodes and encodes back to itself.
const HIGH_CONTROLS: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

/// One Windows-1252 byte as the character it stands for.
pub fn windows_1252_char(b: u8) -> char {
    match b {
        0x80..=0x9F => HIGH_CONTROLS
            .get(usize::from(b - 0x80))
            .copied()
            .unwrap_or(char::from(b)),
        _ => char::from(b),
    }
}

/// `bytes` read as Windows-1252: every byte is one character, none is refused.
pub fn from_windows_1252(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| windows_1252_char(b)).collect()
}

/// `bytes` as UTF-8 when they are UTF-8, and read as Windows-1252 otherwise: what a reader
/// does with text whose character set nobody declared. Valid UTF-8 is borrowed. Bytes that
/// are not UTF-8 almost never came from a UTF-8 system, and a Windows-1252 text that happens
/// to be valid UTF-8 needs two or more accented characters in a row in a rare pattern (`Ã©`).
pub fn utf8_or_windows_1252(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(from_windows_1252(bytes)),
    }
}

/// The Windows-1252 byte for `c`, `None` when the character set has none.
pub fn windows_1252_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    if code < 0x80 || (0xA0..=0xFF).contains(&code) {
        return u8::try_from(code).ok();
    }
    let at = HIGH_CONTROLS.iter().position(|&h| h == c)?;
    u8::try_from(0x80 + at).ok()
}

/// A character the partner's character set cannot carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{character:?} (U+{:04X}, character {position} of the value) has no Windows-1252 byte", u32::from(*character))]
pub struct Unmappable {
    pub character: char,
    /// 1-based, counted in characters.
    pub position: usize,
}

/// `text` as Windows-1252 bytes, borrowed when it is ASCII. A character the set lacks is
/// refused, not replaced: the writer's caller names the field, so the value can be corrected
/// rather than reach the partner changed.
pub fn to_windows_1252(text: &str) -> Result<Cow<'_, [u8]>, Unmappable> {
    if text.is_ascii() {
        return Ok(Cow::Borrowed(text.as_bytes()));
    }
    let mut out = Vec::with_capacity(text.len());
    for (k, c) in text.chars().enumerate() {
        match windows_1252_byte(c) {
            Some(b) => out.push(b),
            None => {
                return Err(Unmappable {
                    character: c,
                    position: k + 1,
                });
            }
        }
    }
    Ok(Cow::Owned(out))
}

/// Byte order of UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    /// The code unit of two bytes in this order.
    pub fn unit(self, bytes: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(bytes),
            Endian::Big => u16::from_be_bytes(bytes),
        }
    }
}

/// The byte order of UTF-16 text written without a byte-order mark, told from its first
/// bytes: text in these formats is mostly ASCII, so UTF-16 has a zero byte in every code unit,
/// on the same side, which UTF-8 and the single-byte charsets never hold. `None` unless the
/// first 32 units (or all, in a shorter input of at least 4) carry their zero on one side in
/// all but one unit in eight.
pub fn utf16_without_bom(bytes: &[u8]) -> Option<Endian> {
    let units: Vec<[u8; 2]> = bytes
        .chunks_exact(2)
        .take(32)
        .filter_map(|c| <[u8; 2]>::try_from(c).ok())
        .collect();
    if units.len() < 4 {
        return None;
    }
    let high_zero = units.iter().filter(|u| u[1] == 0 && u[0] != 0).count();
    let low_zero = units.iter().filter(|u| u[0] == 0 && u[1] != 0).count();
    let enough = units.len() - units.len() / 8;
    if high_zero >= enough {
        Some(Endian::Little)
    } else if low_zero >= enough {
        Some(Endian::Big)
    } else {
        None
    }
}

/// The byte order a UTF-16 byte-order mark at the start of `bytes` names, and what follows it;
/// `None` without one. Excel's "Unicode Text" and some XML writers start so.
pub fn utf16_bom(bytes: &[u8]) -> Option<(Endian, &[u8])> {
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        Some((Endian::Little, rest))
    } else {
        bytes
            .strip_prefix(b"\xFE\xFF")
            .map(|rest| (Endian::Big, rest))
    }
}

/// UTF-16 `body` (after its byte-order mark) as text. `Err`: the text decoded before half a
/// character (a lone surrogate, or an odd last byte), for the caller to say where.
pub fn from_utf16(body: &[u8], endian: Endian) -> Result<String, String> {
    let whole = body.chunks_exact(2);
    // An odd last byte is half a code unit.
    let odd = !whole.remainder().is_empty();
    let units = whole.map(|pair| match pair {
        [a, b] => endian.unit([*a, *b]),
        _ => 0,
    });
    let mut text = String::with_capacity(body.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => text.push(c),
            Err(_) => return Err(text),
        }
    }
    if odd { Err(text) } else { Ok(text) }
}

/// Why text said to be in a named character set could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Undecodable {
    /// The name is no label of the WHATWG Encoding Standard (which names what browsers and
    /// mail clients read).
    #[error(
        "charset {0:?} is not one the gateway reads (those of the WHATWG Encoding Standard: \
         UTF-8, UTF-16, Windows-125x, ISO-8859-x, Shift_JIS, EUC-JP, ISO-2022-JP, GBK, GB18030, \
         Big5, EUC-KR, KOI8-R, ...)"
    )]
    UnknownLabel(String),
    /// The bytes from `offset` (0-based) are not text in `charset`.
    #[error("byte {} is not {charset} text", offset + 1)]
    Malformed {
        charset: &'static str,
        offset: usize,
    },
}

/// `bytes` as text in the character set `label` names (a label of the WHATWG Encoding
/// Standard, any case: `Shift_JIS`, `gb2312`, `koi8-r`; `iso-8859-1` reads as Windows-1252, as
/// in every browser and mail client). A byte-order mark wins over the label. Nothing is
/// replaced: bytes that are not text in the set are refused with their offset, so a reader can
/// say where rather than pass on `�`.
pub fn decode_labelled(bytes: &[u8], label: &str) -> Result<String, Undecodable> {
    let (encoding, body, skipped) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((e, bom)) => (e, bytes.get(bom..).unwrap_or_default(), bom),
        None => match encoding_rs::Encoding::for_label(label.trim().as_bytes()) {
            Some(e) if e != encoding_rs::REPLACEMENT => (e, bytes, 0),
            _ => {
                let shown: String = label.chars().filter(|c| !c.is_control()).take(40).collect();
                return Err(Undecodable::UnknownLabel(shown));
            }
        },
    };
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(body.len())
        .unwrap_or_else(|| body.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let mut read = 0usize;
    loop {
        let rest = body.get(read..).unwrap_or_default();
        let (result, n) = decoder.decode_to_string_without_replacement(rest, &mut text, true);
        read += n;
        match result {
            encoding_rs::DecoderResult::InputEmpty => return Ok(text),
            encoding_rs::DecoderResult::OutputFull => text.reserve(rest.len().max(16)),
            encoding_rs::DecoderResult::Malformed(bad, after) => {
                return Err(Undecodable::Malformed {
                    charset: encoding.name(),
                    offset: skipped + read.saturating_sub(usize::from(bad) + usize::from(after)),
                });
            }
        }
    }
}

/// The 1-based line of byte `offset` of `bytes`, for locating a byte in text whose character
/// set keeps ASCII line feeds as they are (every one [`decode_labelled`] reads but UTF-16).
pub fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes
        .get(..offset)
        .unwrap_or(bytes)
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts encoded by Python's codecs (an independent implementation), read by label.
    #[test]
    fn declared_character_sets_are_read_by_their_labels() {
        for (label, bytes, text) in [
            ("KOI8-R", &b"\xf0\xd2\xc9\xd7\xc5\xd4"[..], "Привет"),
            ("gb2312", b"\xb7\xa2\xc6\xb1", "发票"),
            ("Big5", b"\xb5\x6f\xb2\xbc", "發票"),
            ("EUC-JP", b"\xc0\xc1\xb5\xe1\xbd\xf1", "請求書"),
            (" euc-kr ", b"\xbc\xdb\xc0\xe5", "송장"),
            // As browsers and mail clients read it: 0x92 is the apostrophe, not a C1 control.
            ("ISO-8859-1", b"M\x92s", "M\u{2019}s"),
            // A byte-order mark wins over the label.
            ("iso-8859-1", b"\xef\xbb\xbfM\xc3\xbcller", "Müller"),
        ] {
            assert_eq!(
                decode_labelled(bytes, label).as_deref(),
                Ok(text),
                "{label}"
            );
        }
        assert_eq!(
            decode_labelled(b"abc", "x-martian"),
            Err(Undecodable::UnknownLabel("x-martian".into()))
        );
        // ISO-2022-KR is a label of the standard's "replacement" encoding: nothing reads it.
        assert!(matches!(
            decode_labelled(b"abc", "iso-2022-kr"),
            Err(Undecodable::UnknownLabel(_))
        ));
        // 0x82 starts a two-byte Shift_JIS character; a line feed cannot end it.
        assert_eq!(
            decode_labelled(b"ok\nab\x82\n", "shift_jis"),
            Err(Undecodable::Malformed {
                charset: "Shift_JIS",
                offset: 5
            })
        );
        assert_eq!(line_of(b"ok\nab\x82\n", 5), 2);
    }

    /// Every byte decodes as the WHATWG Encoding Standard's windows-1252 index says (checked
    /// against `encoding_rs`, an independent implementation) and encodes back to itself.
    #[test]
    fn every_byte_decodes_as_the_encoding_standard_says_and_encodes_back() {
        for b in 0..=255u8 {
            let byte = [b];
            let (reference, _, had_errors) = encoding_rs::WINDOWS_1252.decode(&byte);
            assert!(!had_errors, "byte {b:#04x}");
            let ours = from_windows_1252(&[b]);
            assert_eq!(ours, reference, "byte {b:#04x}");
            let c = windows_1252_char(b);
            assert_eq!(windows_1252_byte(c), Some(b), "byte {b:#04x}");
        }
    }

    proptest::proptest! {
        /// Any bytes read as Windows-1252 and written back are the same bytes; any text the
        /// set carries, written and read back, is the same text.
        #[test]
        fn windows_1252_round_trips(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let text = from_windows_1252(&bytes);
            let again = to_windows_1252(&text).map(Cow::into_owned);
            proptest::prop_assert_eq!(again, Ok(bytes.clone()));
            proptest::prop_assert!(text.chars().all(|c| Charset::Windows1252.carries(c)));
        }

        /// Text with a character the set lacks is refused at that character, never changed.
        #[test]
        fn what_the_set_lacks_is_refused_where_it_is(head in "[a-zé€’]{0,8}", tail in "[a-z]{0,8}") {
            let text = format!("{head}\u{2713}{tail}");
            let err = to_windows_1252(&text).err();
            proptest::prop_assert_eq!(
                err,
                Some(Unmappable { character: '\u{2713}', position: head.chars().count() + 1 })
            );
        }
    }

    #[test]
    fn utf16_reads_in_either_order_and_stops_at_half_a_character() {
        let text = "Müller “€” 😀";
        let le: Vec<u8> = b"\xFF\xFE"
            .iter()
            .copied()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = b"\xFE\xFF"
            .iter()
            .copied()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        for raw in [&le, &be] {
            let (endian, body) = utf16_bom(raw).unwrap();
            assert_eq!(from_utf16(body, endian).as_deref(), Ok(text));
        }
        assert_eq!(utf16_bom(b"ISA"), None);
        // Half of the last code unit: the whole character before it is kept, not paired with
        // a made-up half.
        let (endian, body) = utf16_bom(&le[..le.len() - 1]).unwrap();
        assert_eq!(from_utf16(body, endian), Err("Müller “€” ".to_string()));
        let (endian, body) = utf16_bom(&le[..le.len() - 2]).unwrap();
        assert_eq!(from_utf16(body, endian), Err("Müller “€” ".to_string()));
    }

    #[test]
    fn utf8_is_kept_and_other_bytes_are_windows_1252() {
        assert!(matches!(
            utf8_or_windows_1252("Müller".as_bytes()),
            Cow::Borrowed("Müller")
        ));
        assert_eq!(utf8_or_windows_1252(b"M\xfcller"), "Müller");
        assert_eq!(
            utf8_or_windows_1252(b"Men\x92s \x93best\x94 \x80"),
            "Men’s “best” €"
        );
    }

    #[test]
    fn writing_refuses_what_the_set_lacks_and_names_where() {
        assert_eq!(
            to_windows_1252("Société – 5 €").ok().as_deref(),
            Some(&b"Soci\xe9t\xe9 \x96 5 \x80"[..])
        );
        assert!(matches!(to_windows_1252("plain"), Ok(Cow::Borrowed(_))));
        let err = to_windows_1252("ab✓c").err();
        assert_eq!(
            err,
            Some(Unmappable {
                character: '✓',
                position: 3
            })
        );
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("U+2713"), "{message}");
    }
}
