//! The file's dialect before any record is read: byte-order mark and delimiter.

use std::io::BufRead;

/// Delimiters tried when the profile names none, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Drops a UTF-8 byte-order mark at the start of `reader`, if there is one.
pub fn skip_bom(reader: &mut dyn BufRead) -> std::io::Result<()> {
    let buf = reader.fill_buf()?;
    if buf.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(())
}

/// The delimiter of the first record: the candidate seen most often outside quotes on the
/// first line (`,` when none is seen). Looks only at what is already buffered, so it never
/// reads the file twice.
pub fn sniff_delimiter(reader: &mut dyn BufRead) -> std::io::Result<u8> {
    let buf = reader.fill_buf()?;
    Ok(sniff(buf))
}

/// Sniffs from bytes (see [`sniff_delimiter`]).
pub fn sniff(buf: &[u8]) -> u8 {
    let mut counts = [0usize; CANDIDATES.len()];
    let mut quoted = false;
    for &b in buf {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
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
        skip_bom(&mut r).unwrap();
        assert_eq!(r, b"a,b\n");
    }
}
