//! gzip bodies made of pieces compressed apart: a cached page's content is compressed
//! once per version, the parts of its frame once for as long as they are asked for, and
//! each request adds only its CSRF token, uncompressed, and joins them (RFC 1951, 1952).
//!
//! Each piece is a run of raw deflate blocks ended by a sync flush: none is final and
//! each ends on a byte boundary, so pieces can be laid end to end. The parts of a page
//! between its token slots are one deflate stream ([`deflate_around_gaps`]): each part
//! may refer back into the parts before it, across the slots, which the compressor
//! takes for bytes HTML never has (so nothing refers into them) and the body fills with
//! a stored block of the token ([`Deflated::stored`]), exactly as long. The body closes
//! with an empty final block; the trailer's CRC-32 is the pieces' CRCs combined.

use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use crc32fast::Hasher;
use flate2::{Compress, Compression, FlushCompress};

/// Level for content compressed once per version and served until the next: a city's
/// pages are compressed again after every change of the city (under a campaign's
/// writes, nearly every page a credit office opens), so time counts as much as size.
/// Measured with this build's deflate (zlib-rs) on the ten pages of a city (7–52 KB,
/// 311 KB in all): level 1 takes 0.64 ms for all ten and writes 70 KB, level 2 1.15 ms
/// and 60 KB, level 4 1.8 ms and 56 KB. Level 1 is not taken: it codes with fixed
/// Huffman tables, which suit Chinese text badly (a short rule page is not even halved).
pub const CACHED: u32 = 2;

/// A piece of a body, compressed.
#[derive(Clone)]
pub struct Deflated {
    bytes: Vec<u8>,
    crc: Hasher,
    len: u64,
}

impl Deflated {
    /// A piece compressed on its own.
    pub fn new(piece: &[u8], level: u32) -> Self {
        let mut c = Compress::new(Compression::new(level), false);
        Self::next(&mut c, piece)
    }

    /// The next piece of the stream `c`, ended by a sync flush.
    fn next(c: &mut Compress, piece: &[u8]) -> Self {
        let mut crc = Hasher::new();
        crc.update(piece);
        let mut bytes = Vec::with_capacity(piece.len() / 3 + 64);
        let mut read = 0;
        loop {
            if bytes.capacity() - bytes.len() < 64 {
                bytes.reserve(bytes.capacity().max(1024));
            }
            let before = c.total_in();
            // Deflating into a Vec's spare capacity cannot fail: a raw stream in memory,
            // flushed but never finished.
            c.compress_vec(&piece[read..], &mut bytes, FlushCompress::Sync).expect("deflate into memory");
            read += (c.total_in() - before) as usize;
            // The flush is complete once all input is taken and output room was left.
            if read == piece.len() && bytes.len() < bytes.capacity() {
                break;
            }
        }
        Self { bytes, crc, len: piece.len() as u64 }
    }

    /// `piece` as it is, in stored blocks (no compression, nothing to set up): for a
    /// request's token, in the gap [`deflate_around_gaps`] left for it.
    pub fn stored(piece: &[u8]) -> Self {
        let mut crc = Hasher::new();
        crc.update(piece);
        let mut bytes = Vec::with_capacity(piece.len() + 5 * (piece.len() / 65_535 + 1));
        for block in piece.chunks(65_535) {
            // Byte-aligned after the sync flush before: BFINAL 0, BTYPE 00, padding;
            // then LEN and its complement.
            let len = block.len() as u16;
            bytes.push(0);
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&(!len).to_le_bytes());
            bytes.extend_from_slice(block);
        }
        Self { bytes, crc, len: piece.len() as u64 }
    }

    /// The compressed size.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }
}

/// `parts` compressed as one stream in which each part but the first follows a gap of
/// `gap` bytes: the body must put exactly `gap` bytes between them (a
/// [`Deflated::stored`] piece). To the compressor a gap is `gap` bytes 0xFF, which no
/// part may contain (UTF-8 text never does): no match can then reach into it, and
/// every distance across it holds whatever the body puts there.
pub fn deflate_around_gaps(parts: &[&[u8]], level: u32, gap: usize) -> Vec<Deflated> {
    let filler = vec![0xff_u8; gap];
    let mut c = Compress::new(Compression::new(level), false);
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        debug_assert!(!part.contains(&0xff), "a part holds the gap's filler byte");
        if i > 0 && gap > 0 {
            // Appends to the window, emits nothing: allowed for a raw stream once a
            // flush has taken all input.
            c.set_dictionary(&filler).expect("deflate window after a sync flush");
        }
        out.push(Deflated::next(&mut c, part));
    }
    out
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

/// An HTML page, its body gzip-compressed (`compressed`) or plain; either way it varies
/// with `Accept-Encoding`.
pub fn html_response(body: impl IntoResponse, compressed: bool) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    if compressed {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(VARY, HeaderValue::from_static("accept-encoding"));
    resp
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
        let pieces = [Deflated::new(head.as_bytes(), 1), Deflated::new(content.as_bytes(), CACHED), Deflated::stored(token.as_bytes()), Deflated::new(b"", CACHED), Deflated::new(b"</body></html>", 9)];
        let body = join(&pieces);
        assert_eq!(gunzip(&body), format!("{head}{content}{token}</body></html>").into_bytes());
        assert!(body.len() < content.len() / 50, "{} bytes for {} of repetitive markup", body.len(), content.len());
    }

    #[test]
    fn parts_refer_back_across_the_tokens_between_them() {
        let form = "<form method=\"post\" action=\"/units/7/inputs\"><input type=\"hidden\" name=\"csrf\" value=\"";
        let rest = format!("\"><button>保存</button></form><p>第二个表单</p>{form}");
        let token = "f".repeat(64);
        let parts = deflate_around_gaps(&[form.as_bytes(), rest.as_bytes(), rest.as_bytes()], CACHED, 64);
        let stored = Deflated::stored(token.as_bytes());
        let body = join([&parts[0], &stored, &parts[1], &stored, &parts[2]]);
        assert_eq!(gunzip(&body), format!("{form}{token}{rest}{token}{rest}").into_bytes());
        assert!(parts[2].size() < Deflated::new(rest.as_bytes(), CACHED).size() / 2, "the third part refers back to the second");
    }

    #[test]
    fn no_pieces_is_an_empty_body() {
        assert_eq!(gunzip(&join(&[])), b"");
    }

    #[test]
    fn a_long_piece_is_stored_in_blocks_of_at_most_64_kib() {
        let long: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(gunzip(&join(&[Deflated::stored(&long), Deflated::stored(b"")])), long);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_pieces_at_any_level(pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..3000), 0..6), level in 0u32..=9) {
            let deflated: Vec<Deflated> = pieces.iter().map(|p| Deflated::new(p, level)).collect();
            prop_assert_eq!(gunzip(&join(&deflated)), pieces.concat());
        }

        /// Parts built to refer back into each other (repeats), any tokens in the gaps.
        #[test]
        fn any_parts_around_any_tokens(
            parts in proptest::collection::vec(proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'<'), Just(b'"'), 0u8..0xff], 0..2000), 1..6),
            tokens in proptest::collection::vec(any::<u8>(), 0..80),
            gap in 0usize..80,
            level in 1u32..=9,
        ) {
            let token: Vec<u8> = tokens.iter().copied().cycle().take(if tokens.is_empty() { 0 } else { gap }).collect();
            let gap = token.len();
            let parts: Vec<Vec<u8>> = parts.iter().map(|p| [p.as_slice(), p.as_slice()].concat()).collect();
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let deflated = deflate_around_gaps(&refs, level, gap);
            let stored = Deflated::stored(&token);
            let mut pieces = Vec::new();
            let mut expected = Vec::new();
            for (i, (d, p)) in deflated.iter().zip(&parts).enumerate() {
                if i > 0 {
                    pieces.push(&stored);
                    expected.extend_from_slice(&token);
                }
                pieces.push(d);
                expected.extend_from_slice(p);
            }
            prop_assert_eq!(gunzip(&join(pieces)), expected);
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
