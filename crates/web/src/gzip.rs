//! gzip bodies made of pieces compressed apart: a cached page's content is compressed
//! once per version, and each request compresses only its own small parts (the frame
//! with the account's name and its CSRF token) and joins them (RFC 1951 and 1952).
//!
//! Each piece is a run of raw deflate blocks ended by a sync flush: none is final and
//! each ends on a byte boundary, so pieces can be laid end to end; each piece's
//! compressor starts afresh, so no piece refers back into another. The body closes with
//! an empty final block, and the trailer's CRC-32 is the pieces' CRCs combined.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_ENCODING;
use crc32fast::Hasher;
use flate2::{Compress, Compression, FlushCompress};

/// Level for content compressed once and served many times.
pub const CACHED: u32 = 6;
/// Level for the parts compressed on every request (a few kilobytes).
pub const PER_REQUEST: u32 = 6;

/// How far back deflate may refer.
const WINDOW: usize = 32 * 1024;

/// A piece of a body, compressed.
#[derive(Clone)]
pub struct Deflated {
    bytes: Vec<u8>,
    crc: Hasher,
    len: u64,
}

impl Deflated {
    pub fn new(piece: &[u8], level: u32) -> Self {
        Self::after(piece, level, &[])
    }

    /// `piece` compressed as it follows `window` (its last 32 KiB) in the body: it may
    /// refer back into the window, which must then be exactly what precedes it there,
    /// byte for byte — or, where it is not known yet, bytes that `piece` and the rest of
    /// the window never contain (no match can then reach into them), as long as what
    /// the body has there is as long.
    pub fn after(piece: &[u8], level: u32, window: &[u8]) -> Self {
        let mut crc = Hasher::new();
        crc.update(piece);
        let mut c = Compress::new(Compression::new(level), false);
        if !window.is_empty() {
            // Setting a dictionary on a fresh raw stream cannot fail.
            c.set_dictionary(&window[window.len().saturating_sub(WINDOW)..]).expect("deflate dictionary");
        }
        let mut bytes = Vec::with_capacity(piece.len() / 3 + 64);
        loop {
            if bytes.capacity() - bytes.len() < 64 {
                bytes.reserve(bytes.capacity().max(1024));
            }
            let read = c.total_in() as usize;
            // Deflating into a Vec's spare capacity cannot fail: a fresh raw stream, no
            // dictionary, flushed but never finished.
            c.compress_vec(&piece[read..], &mut bytes, FlushCompress::Sync).expect("deflate into memory");
            // The flush is complete once all input is taken and output room was left.
            if c.total_in() as usize == piece.len() && bytes.len() < bytes.capacity() {
                break;
            }
        }
        Self { bytes, crc, len: piece.len() as u64 }
    }

    /// The compressed size.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }
}

/// A gzip member holding the pieces, in order.
pub fn join<'a>(pieces: impl IntoIterator<Item = &'a Deflated> + Clone) -> Vec<u8> {
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    // An empty block, fixed Huffman codes, marked final.
    const LAST: [u8; 2] = [0x03, 0x00];
    let size: usize = pieces.clone().into_iter().map(Deflated::size).sum();
    let mut out = Vec::with_capacity(HEADER.len() + size + LAST.len() + 8);
    out.extend_from_slice(&HEADER);
    let (mut crc, mut len) = (Hasher::new(), 0u64);
    for p in pieces {
        out.extend_from_slice(&p.bytes);
        crc.combine(&p.crc);
        len += p.len;
    }
    out.extend_from_slice(&LAST);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    // ISIZE: the length modulo 2^32.
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out
}

/// Whether the request's `Accept-Encoding` takes gzip: named with a non-zero quality,
/// or `*` with one when gzip is not named.
pub fn accepted(headers: &HeaderMap) -> bool {
    let mut star = false;
    for item in headers.get_all(ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')) {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            return quality > 0.0;
        }
        if name == "*" {
            star = quality > 0.0;
        }
    }
    star
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use axum::http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    fn gunzip(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut d = flate2::read::GzDecoder::new(body);
        d.read_to_end(&mut out).expect("a valid gzip member");
        // One member, nothing after it.
        assert_eq!(d.into_inner().len(), 0, "bytes after the gzip member");
        out
    }

    #[test]
    fn pieces_joined_read_back_as_the_whole() {
        let head = "<html><head><title>城市对比</title></head><body>".repeat(3);
        let content = "<td class=\"h\">12.5</td>".repeat(40_000);
        let token = "0123456789abcdef";
        let pieces = [Deflated::new(head.as_bytes(), PER_REQUEST), Deflated::new(content.as_bytes(), CACHED), Deflated::new(token.as_bytes(), PER_REQUEST), Deflated::new(b"", CACHED), Deflated::new(b"</body></html>", PER_REQUEST)];
        let body = join(&pieces);
        assert_eq!(gunzip(&body), format!("{head}{content}{token}</body></html>").into_bytes());
        assert!(body.len() < content.len() / 50, "{} bytes for {} of repetitive markup", body.len(), content.len());
    }

    #[test]
    fn a_piece_may_refer_back_across_an_unknown_gap_of_known_length() {
        let a = "<form method=\"post\"><input type=\"hidden\" name=\"csrf\" value=\"";
        let b = format!("\"><button>保存</button></form>{a}");
        let gap = [0xff_u8; 16];
        let window = [a.as_bytes(), &gap].concat();
        let pieces = [Deflated::new(a.as_bytes(), CACHED), Deflated::new(b"0123456789abcdef", PER_REQUEST), Deflated::after(b.as_bytes(), CACHED, &window)];
        assert_eq!(gunzip(&join(&pieces)), format!("{a}0123456789abcdef{b}").into_bytes());
        assert!(pieces[2].size() < Deflated::new(b.as_bytes(), CACHED).size(), "the second form refers back to the first");
    }

    #[test]
    fn no_pieces_is_an_empty_body() {
        assert_eq!(gunzip(&join(&[])), b"");
    }

    proptest! {
        #[test]
        fn any_pieces_at_any_level(pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..3000), 0..6), level in 0u32..=9) {
            let deflated: Vec<Deflated> = pieces.iter().map(|p| Deflated::new(p, level)).collect();
            prop_assert_eq!(gunzip(&join(&deflated)), pieces.concat());
        }
    }

    fn accepts(value: &str) -> bool {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        accepted(&h)
    }

    #[test]
    fn accept_encoding() {
        assert!(accepts("gzip, deflate, br, zstd"));
        assert!(accepts("br;q=1.0, gzip;q=0.8, *;q=0.1"));
        assert!(accepts("GZIP"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("gzip;q=0, *"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts("identity"));
        assert!(!accepted(&HeaderMap::new()));
    }
}
