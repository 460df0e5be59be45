//! gzip and brotli, at settings a feed is compressed with once per change.

use std::io::Write;

/// gzip level: with zlib-rs, 3 is within 1 % of 6's size on a feed at
/// less than half its time (1 is a third bigger). Every publish compresses
/// the feeds it changed, and every archive page is compressed once.
const GZIP_LEVEL: u32 = 3;
/// brotli quality 5: smaller than gzip 9, about four times faster than 9.
const BROTLI_QUALITY: i32 = 5;
pub(super) fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::new(GZIP_LEVEL),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

pub(super) fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 4);
    // A window no bigger than the body (brotli allows 2^10..2^24): the
    // encoder's buffers follow the window, and the default window is many
    // times a feed's size. But not under 2^17: at these qualities the
    // `brotli` crate has no hasher for smaller windows and falls back to its
    // biggest (a 32 MB table), many times slower on a page of a few dozen
    // kilobytes.
    let lgwin = (body.len().max(1).next_power_of_two().trailing_zeros() as i32).clamp(17, 22);
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin,
        size_hint: body.len(),
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    out
}
