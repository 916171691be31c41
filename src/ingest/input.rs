//! Reading provider files: encoding detection, bounded lines, and the file's hash.
//!
//! A file is read once, as a stream: memory stays bounded whatever its size. A line longer than
//! the limit is skipped to its end and reported, never buffered whole.

use sha2::{Digest, Sha256};
use std::io::{self, BufRead, Read};

/// The most bytes one line (one record) may have.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The most bytes a CSV reader may gather for one row before the rest of its line is skipped:
/// the line limit plus slack for the CSV reader's read-ahead (8 KiB), so that a row within
/// [`MAX_LINE_BYTES`] never trips it. The row's exact length is checked after it is read.
pub const MAX_CSV_ROW_READ: usize = MAX_LINE_BYTES + (64 << 10);

/// How many bytes at the start of a file are looked at to guess its encoding.
const SNIFF_BYTES: usize = 64 << 10;

/// The text encoding of a provider file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputEncoding {
    /// UTF-8, with or without a byte-order mark (the default).
    #[default]
    Utf8,
    /// GB18030 (a superset of GBK and GB2312), transcoded line by line. Safe because no byte of
    /// a GB18030 multi-byte character is an ASCII newline, comma or quote.
    Gb18030,
}

/// What the first bytes of a file suggest.
pub fn sniff(prefix: &[u8]) -> Option<&'static str> {
    let body = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    match std::str::from_utf8(body) {
        Ok(_) => None,
        // An error only at the very end is a character cut by the sniff window.
        Err(e) if e.error_len().is_none() => None,
        Err(_) => {
            let (_, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(body);
            if had_errors {
                None
            } else {
                Some("GB18030/GBK")
            }
        }
    }
}

/// A stream whose first bytes were read ahead and put back.
pub type Peeked<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// Reads the sniff window from `reader`, returning it and a reader that yields the whole stream.
pub fn peek<R: Read>(mut reader: R) -> io::Result<(Vec<u8>, Peeked<R>)> {
    let mut prefix = Vec::with_capacity(SNIFF_BYTES);
    (&mut reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut prefix)?;
    let copy = prefix.clone();
    Ok((copy, io::Cursor::new(prefix).chain(reader)))
}

/// Decodes one line or field to text in the given encoding; `None` when it is not valid.
pub fn decode(bytes: &[u8], encoding: InputEncoding) -> Option<std::borrow::Cow<'_, str>> {
    match encoding {
        InputEncoding::Utf8 => std::str::from_utf8(bytes).ok().map(Into::into),
        InputEncoding::Gb18030 => {
            encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes)
        }
    }
}

/// A reader that hashes every byte it yields.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The SHA-256 of everything read so far.
    pub fn digest(&self) -> [u8; 32] {
        self.hasher.clone().finalize().into()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Bounds what a CSV reader can buffer for one row. The CSV reader gathers a whole row in
/// memory and has no limit of its own, so a 100 MB row would be held whole (and a larger one
/// exhaust memory). Past `limit` bytes since the last [`RowBound::take_overflow`], the rest of
/// the physical line is skipped (read and hashed, not passed on) and its newline passed on, so
/// the CSV reader ends the row there and line numbers stay right; the row is then reported as
/// too long. A row inside an unclosed quote runs on over the following lines, as it would
/// anyway, but its memory stays bounded.
pub struct RowBound<R> {
    inner: R,
    limit: usize,
    since_mark: usize,
    skipping: bool,
    overflowed: bool,
}

impl<R: Read> RowBound<R> {
    /// Passes at most `limit` bytes per row from `inner`.
    pub fn new(inner: R, limit: usize) -> Self {
        RowBound {
            inner,
            limit,
            since_mark: 0,
            skipping: false,
            overflowed: false,
        }
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The wrapped reader, given back.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Starts counting for the next row; returns whether the row just read was cut short.
    pub fn take_overflow(&mut self) -> bool {
        self.since_mark = 0;
        std::mem::take(&mut self.overflowed)
    }
}

impl<R: Read> Read for RowBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.skipping {
                let n = self.inner.read(buf)?;
                if n == 0 {
                    return Ok(0);
                }
                if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
                    self.skipping = false;
                    buf.copy_within(i..n, 0);
                    self.since_mark = n - i;
                    return Ok(n - i);
                }
                continue;
            }
            let room = self.limit.saturating_sub(self.since_mark);
            if room == 0 {
                self.skipping = true;
                self.overflowed = true;
                continue;
            }
            let want = buf.len().min(room);
            let n = self.inner.read(&mut buf[..want])?;
            self.since_mark += n;
            return Ok(n);
        }
    }
}

/// One line read by [`LineReader`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line's bytes, without the newline (and without a trailing CR).
    Text,
    /// The line exceeded [`MAX_LINE_BYTES`]; it was skipped to its end.
    TooLong,
}

/// Splits a stream into lines of bounded length.
pub struct LineReader<R> {
    inner: R,
    line_no: u64,
    limit: usize,
}

impl<R: BufRead> LineReader<R> {
    /// Reads lines of at most `limit` bytes from `inner`.
    pub fn new(inner: R, limit: usize) -> Self {
        LineReader {
            inner,
            line_no: 0,
            limit,
        }
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Reads the next line into `buf` (cleared first). `None` at the end of the stream.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<(u64, Line)>> {
        buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = self.inner.fill_buf()?;
            if available.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (available.len(), false),
            };
            if !too_long {
                if buf.len() + take > self.limit {
                    too_long = true;
                    buf.clear();
                } else {
                    buf.extend_from_slice(&available[..take]);
                }
            }
            self.inner.consume(take + usize::from(done));
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line_no += 1;
        if too_long {
            return Ok(Some((self.line_no, Line::TooLong)));
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if self.line_no == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
        }
        Ok(Some((self.line_no, Line::Text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_bounded_and_numbered() {
        let data = b"\xEF\xBB\xBFab\r\n0123456789\ncd";
        let mut r = LineReader::new(&data[..], 8);
        let mut buf = Vec::new();
        assert_eq!(r.next_line(&mut buf).unwrap(), Some((1, Line::Text)));
        assert_eq!(buf, b"ab");
        assert_eq!(r.next_line(&mut buf).unwrap(), Some((2, Line::TooLong)));
        assert_eq!(r.next_line(&mut buf).unwrap(), Some((3, Line::Text)));
        assert_eq!(buf, b"cd");
        assert_eq!(r.next_line(&mut buf).unwrap(), None);
    }

    #[test]
    fn csv_rows_are_bounded_and_the_newline_kept() {
        let data = b"ab\n0123456789\ncd\n";
        let mut r = RowBound::new(&data[..], 6);
        let mut out = Vec::new();
        let mut buf = [0u8; 4];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            if out.ends_with(b"\n") && r.take_overflow() {
                out.extend_from_slice(b"!");
            }
        }
        // The "0" read ahead with the first row counts against the first row, hence the slack
        // in MAX_CSV_ROW_READ.
        assert_eq!(out, b"ab\n012\n!cd\n");
    }

    #[test]
    fn gbk_is_recognised_and_utf8_is_not_mistaken() {
        let (gbk, _, _) = encoding_rs::GBK.encode("上海市信用中心,罚款");
        assert_eq!(sniff(&gbk), Some("GB18030/GBK"));
        assert_eq!(sniff("上海市信用中心".as_bytes()), None);
        let cut = &"上海".as_bytes()[..4];
        assert_eq!(sniff(cut), None);
    }
}
