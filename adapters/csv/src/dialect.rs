//! The file's dialect before any record is read: byte-order mark and delimiter.

use std::io::BufRead;

/// Delimiters tried when the profile names none, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Drops a UTF-8 byte-order mark at the start of `reader`, if there is one; true when it did
/// (the file says it is UTF-8, whatever the partner's profile expects).
pub fn skip_bom(reader: &mut dyn BufRead) -> std::io::Result<bool> {
    let buf = reader.fill_buf()?;
    if buf.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
        return Ok(true);
    }
    Ok(false)
}

/// The delimiter of the first record: the candidate seen most often outside quotes on the
/// first line (`,` when none is seen). Looks only at what is already buffered, so it never
/// reads the file twice.
pub fn sniff_delimiter(reader: &mut dyn BufRead) -> std::io::Result<u8> {
    let buf = reader.fill_buf()?;
    Ok(sniff(buf))
}

/// How often each candidate, and `other`, occurs outside quotes on the first line of `buf`.
fn first_line_counts(buf: &[u8], other: u8) -> ([usize; CANDIDATES.len()], usize) {
    let mut counts = [0usize; CANDIDATES.len()];
    let mut others = 0;
    let mut quoted = false;
    for &b in buf {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if b == other {
                    others += 1;
                }
                if let Some(n) = CANDIDATES
                    .iter()
                    .position(|c| *c == b)
                    .and_then(|i| counts.get_mut(i))
                {
                    *n += 1;
                }
            }
            _ => {}
        }
    }
    (counts, others)
}

/// Sniffs from bytes (see [`sniff_delimiter`]).
pub fn sniff(buf: &[u8]) -> u8 {
    let (counts, _) = first_line_counts(buf, b',');
    let mut best = b',';
    let mut best_n = 0;
    for (c, n) in CANDIDATES.iter().zip(counts) {
        if n > best_n {
            best = *c;
            best_n = n;
        }
    }
    best
}

/// The delimiter the first line looks separated by, when it is not `configured` (the partner
/// profile's): the line holds none of `configured` outside quotes but some of another
/// candidate. Read with the profile's, such a file is one column wide, and every layout
/// would say something about it that is not its fault (not a record type, a missing column).
/// Looks only at what is already buffered, as [`sniff_delimiter`] does.
pub fn other_delimiter(configured: u8, reader: &mut dyn BufRead) -> std::io::Result<Option<u8>> {
    let buf = reader.fill_buf()?;
    let (counts, own) = first_line_counts(buf, configured);
    if own > 0 {
        return Ok(None);
    }
    let looks = sniff(buf);
    let seen = CANDIDATES
        .iter()
        .zip(counts)
        .any(|(c, n)| *c == looks && n > 0);
    Ok((seen && looks != configured).then_some(looks))
}

/// A delimiter as a message names it: `` `;` ``, or `tab`.
pub fn shown(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".to_string(),
        d => format!("`{}`", char::from(d)),
    }
}

/// The delimiter to use: the profile's when it names one (ASCII only), else sniffed.
pub fn delimiter(configured: Option<char>, reader: &mut dyn BufRead) -> std::io::Result<u8> {
    match configured
        .and_then(|c| u8::try_from(c).ok())
        .filter(u8::is_ascii)
    {
        Some(d) => Ok(d),
        None => sniff_delimiter(reader),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_delimiters() {
        assert_eq!(sniff(b"a,b,c\n1;2"), b',');
        assert_eq!(sniff(b"A2323;2\nB;1"), b';');
        assert_eq!(sniff(b"a\tb\tc\r\n"), b'\t');
        assert_eq!(sniff(b"\"x;y;z\",b,c\n"), b',');
        assert_eq!(sniff(b"single"), b',');
    }

    #[test]
    fn bom_is_skipped() {
        let data = b"\xEF\xBB\xBFa,b\n";
        let mut r: &[u8] = data;
        assert!(skip_bom(&mut r).unwrap());
        assert_eq!(r, b"a,b\n");
        assert!(!skip_bom(&mut r).unwrap());
    }

    #[test]
    fn a_first_line_without_the_configured_delimiter_names_the_one_it_has() {
        let other = |configured: u8, data: &[u8]| {
            let mut r: &[u8] = data;
            other_delimiter(configured, &mut r).unwrap()
        };
        assert_eq!(
            other(b';', b"Invoice,Invoice Number,Supplier\n"),
            Some(b',')
        );
        assert_eq!(other(b';', b"Invoice\tNumber\n1;2\n"), Some(b'\t'));
        assert_eq!(other(b';', b"Invoice;Number,x\n"), None);
        assert_eq!(other(b';', b"single\n"), None);
        assert_eq!(other(b';', b"\"a,b\"\n"), None);
        assert_eq!(other(b'~', b"a~b,c\n"), None);
        assert_eq!(other(b'~', b"a|b\n"), Some(b'|'));
    }
}
