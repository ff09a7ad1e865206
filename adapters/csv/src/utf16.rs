//! UTF-16 files, which Excel writes when a sheet is saved as "Unicode Text": read as UTF-8 as
//! they stream, so the rest of the reader sees what it always sees.

use std::io::{BufRead, Read};

use gateway_model::charset::{Endian, utf16_bom};

/// Drops a UTF-16 byte-order mark at the start of `reader` and says which it was; `None` (and
/// nothing consumed) when there is none.
pub fn skip_utf16_bom(reader: &mut dyn BufRead) -> std::io::Result<Option<Endian>> {
    let endian = utf16_bom(reader.fill_buf()?).map(|(endian, _)| endian);
    if endian.is_some() {
        reader.consume(2);
    }
    Ok(endian)
}

/// The byte order of a UTF-16 file without a byte-order mark (nothing consumed); `None` for
/// any other text. Such a file was read as one garbled column and refused as "not a Coupa
/// file", which sent its sender looking in the wrong place.
pub fn sniff_utf16(reader: &mut dyn BufRead) -> std::io::Result<Option<Endian>> {
    Ok(gateway_model::charset::utf16_without_bom(
        reader.fill_buf()?,
    ))
}

/// Code units decoded per refill.
const UNITS_PER_REFILL: usize = 8 * 1024;

/// A UTF-16 stream (after its byte-order mark) read as UTF-8. A unit that is not part of a
/// character (a lone surrogate) or a file that ends inside one is an `InvalidData` error with
/// its byte offset: the text is refused, not changed.
pub struct Utf16Reader<'r> {
    inner: &'r mut dyn BufRead,
    endian: Endian,
    /// UTF-8 decoded and not yet read.
    out: Vec<u8>,
    pos: usize,
    /// A byte of a code unit whose other byte has not arrived.
    odd: Option<u8>,
    /// A high surrogate whose low half has not arrived.
    high: Option<u16>,
    /// Bytes of UTF-16 consumed so far, after the byte-order mark (for error offsets).
    offset: u64,
}

impl<'r> Utf16Reader<'r> {
    pub fn new(inner: &'r mut dyn BufRead, endian: Endian) -> Self {
        Utf16Reader {
            inner,
            endian,
            out: Vec::new(),
            pos: 0,
            odd: None,
            high: None,
            offset: 0,
        }
    }

    fn invalid(&self, what: &str) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file is UTF-16 (it starts with a UTF-16 byte-order mark) and {what} near byte {} after the mark; save it again as CSV (UTF-8)",
                self.offset
            ),
        )
    }

    /// Decodes the next piece of input into `out`; false at the end of the input.
    fn refill(&mut self) -> std::io::Result<bool> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                if self.odd.is_some() || self.high.is_some() {
                    return Err(self.invalid("it ends inside a character"));
                }
                return Ok(false);
            }
            let take = chunk.len().min(2 * UNITS_PER_REFILL);
            let bytes = chunk.get(..take).unwrap_or_default().to_vec();
            self.inner.consume(take);
            self.decode(&bytes)?;
        }
        Ok(true)
    }

    fn decode(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        for &b in bytes {
            let Some(first) = self.odd.take() else {
                self.odd = Some(b);
                continue;
            };
            let unit = self.endian.unit([first, b]);
            self.offset += 2;
            self.unit(unit)?;
        }
        Ok(())
    }

    fn unit(&mut self, unit: u16) -> std::io::Result<()> {
        let c = match (self.high.take(), unit) {
            (None, 0xD800..=0xDBFF) => {
                self.high = Some(unit);
                return Ok(());
            }
            (Some(high), 0xDC00..=0xDFFF) => {
                char::decode_utf16([high, unit]).next().and_then(Result::ok)
            }
            (None, 0xDC00..=0xDFFF) | (Some(_), _) => None,
            (None, _) => char::from_u32(u32::from(unit)),
        };
        let c = c.ok_or_else(|| self.invalid("holds half a character (a lone surrogate)"))?;
        let mut utf8 = [0u8; 4];
        self.out
            .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        Ok(())
    }
}

impl Read for Utf16Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), available.get(..n)) {
            to.copy_from_slice(from);
        }
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Utf16Reader<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.out.len() && !self.refill()? {
            return Ok(&[]);
        }
        Ok(self.out.get(self.pos..).unwrap_or_default())
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, endian: Endian) -> Vec<u8> {
        let mut bytes = match endian {
            Endian::Little => vec![0xFF, 0xFE],
            Endian::Big => vec![0xFE, 0xFF],
        };
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&match endian {
                Endian::Little => unit.to_le_bytes(),
                Endian::Big => unit.to_be_bytes(),
            });
        }
        bytes
    }

    fn read_all(bytes: &[u8]) -> std::io::Result<String> {
        let mut input: &[u8] = bytes;
        let endian = skip_utf16_bom(&mut input)?.expect("a UTF-16 byte-order mark");
        let mut text = String::new();
        Utf16Reader::new(&mut input, endian).read_to_string(&mut text)?;
        Ok(text)
    }

    #[test]
    fn both_byte_orders_read_as_the_text_written_across_refills() {
        let text = format!(
            "Invoice\tMüller “€” 😀\r\n{}",
            "x".repeat(3 * UNITS_PER_REFILL)
        );
        for endian in [Endian::Little, Endian::Big] {
            assert_eq!(read_all(&utf16(&text, endian)).unwrap(), text);
        }
        let mut plain: &[u8] = b"Invoice,1";
        assert_eq!(skip_utf16_bom(&mut plain).unwrap(), None);
        assert_eq!(plain, b"Invoice,1", "nothing consumed");
    }

    #[test]
    fn half_a_character_is_refused_with_where() {
        let mut lone = utf16("ab", Endian::Little);
        lone.extend_from_slice(&0xDC00u16.to_le_bytes());
        let err = read_all(&lone).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("lone surrogate"), "{err}");
        assert!(err.to_string().contains("near byte 6"), "{err}");
        let mut cut = utf16("ab", Endian::Little);
        cut.push(b'c');
        let err = read_all(&cut).unwrap_err();
        assert!(err.to_string().contains("ends inside a character"), "{err}");
        let mut unpaired = utf16("a", Endian::Big);
        unpaired.extend_from_slice(&0xD83Du16.to_be_bytes());
        assert!(read_all(&unpaired).is_err());
    }
}
