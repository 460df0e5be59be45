//! Bytes to clean text: UTF-8 or Windows-1252, without characters XML 1.0
//! forbids, and helpers to bound what goes into a feed.

use std::borrow::Cow;

use crate::model::Reason;

/// How much of the file the binary sniffing looks at.
const SNIFF_BYTES: usize = 8192;

/// Decodes a file's bytes. UTF-8 when valid, else Windows-1252 (what scraped
/// pages usually are when they are not UTF-8; every byte decodes). Characters
/// illegal in XML 1.0 are dropped and counted in the warnings. Clean UTF-8
/// (nearly every file) is borrowed, not copied.
pub fn decode<'a>(bytes: &'a [u8], warnings: &mut Vec<String>) -> Result<Cow<'a, str>, Reason> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Reason::Empty);
    }
    let (controls, lead_bytes) = byte_kinds(bytes);
    if controls && looks_binary(bytes) {
        return Err(Reason::Binary);
    }
    let (text, clean) = match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), !controls && !lead_bytes),
        Err(_) => {
            warnings.push("not valid UTF-8: read as Windows-1252".into());
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            (text, false)
        }
    };
    if clean || all_xml_text(&text) {
        return Ok(text);
    }
    let cleaned = clean_xml_chars(&text);
    let dropped = text.chars().count() - cleaned.chars().count();
    if dropped > 0 {
        warnings.push(format!(
            "dropped {dropped} control character(s) not allowed in XML"
        ));
    }
    Ok(Cow::Owned(cleaned))
}

/// Whether the bytes hold any control byte (`looks_binary` counts them, and
/// XML forbids most), and any `C2`/`EF` byte (which can begin a forbidden C1
/// control or noncharacter). Neither, in valid UTF-8: clean XML text, known
/// from this one pass. Blocks of 64 with no early exit, so it vectorizes.
fn byte_kinds(bytes: &[u8]) -> (bool, bool) {
    bytes
        .chunks(64)
        .map(|block| {
            block.iter().fold((false, false), |(c, l), &x| {
                let c0 = (x < 0x20) & (x != b'\t') & (x != b'\n') & (x != b'\r');
                (c | c0 | (x == 0x7f), l | (x == 0xc2) | (x == 0xef))
            })
        })
        .fold((false, false), |(c, l), (bc, bl)| (c | bc, l | bl))
}

/// Text files have few control bytes; executables, images and archives have
/// many. A stray NUL or ESC in a scraped page is cleaned, not rejected.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    // Branch-free byte counts in blocks of 64 (a u8 cannot overflow), so the
    // compiler vectorizes it: this runs over every file a scan reads.
    let controls: usize = head
        .chunks(64)
        .map(|block| {
            let n: u8 = block
                .iter()
                .map(|&b| {
                    let c0 = (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r') & (b != 0x0c);
                    u8::from(c0 | (b == 0x7f))
                })
                .fold(0, u8::wrapping_add);
            usize::from(n)
        })
        .sum();
    controls * 20 > head.len() // more than 5%
}

/// Keeps only characters XML 1.0 allows (`#x9 | #xA | #xD | [#x20-#xD7FF] |
/// [#xE000-#xFFFD] | [#x10000-#x10FFFF]`), also dropping the C1 controls
/// (U+0080–U+009F) that validators flag and no text needs.
pub fn clean_xml_chars(s: &str) -> String {
    if all_xml_text(s) {
        return s.to_owned(); // almost always: one copy, no char-by-char rebuild
    }
    s.chars().filter(|&c| is_xml_text_char(c)).collect()
}

/// [`is_xml_text_char`] for every char, checked on the UTF-8 bytes: the C0
/// controls and DEL are single bytes, the C1 controls are `C2 80..9F`, and
/// U+FFFE/U+FFFF are `EF BF BE/BF`; every other sequence is allowed. Runs
/// over every text read, so it looks at 64 bytes at a time with no early
/// exit (which the compiler turns into SIMD) and only looks closer at a
/// block holding a byte that can begin a forbidden character.
pub(crate) fn all_xml_text(s: &str) -> bool {
    let b = s.as_bytes();
    let suspicious = |x: u8| {
        (x < 0x20) & (x != b'\t') & (x != b'\n') & (x != b'\r')
            | (x == 0x7f)
            | (x == 0xc2)
            | (x == 0xef)
    };
    b.chunks(64).enumerate().all(|(n, block)| {
        !block.iter().fold(false, |any, &x| any | suspicious(x))
            || (n * 64..n * 64 + block.len()).all(|i| allowed_at(b, i))
    })
}

fn allowed_at(b: &[u8], i: usize) -> bool {
    match b[i] {
        b'\t' | b'\n' | b'\r' => true,
        0..=0x1f | 0x7f => false,
        0xc2 => !matches!(b.get(i + 1), Some(0x80..=0x9f)),
        0xef => !(b.get(i + 1) == Some(&0xbf) && matches!(b.get(i + 2), Some(0xbe | 0xbf))),
        _ => true,
    }
}

fn is_xml_text_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
        || (('\u{20}'..='\u{D7FF}').contains(&c) && !('\u{7F}'..='\u{9F}').contains(&c))
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || c >= '\u{10000}'
}

/// Collapses runs of whitespace to single spaces and trims.
pub fn squash_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Cuts `s` to at most `max` characters on a word boundary, adding `…`.
pub fn truncate_words(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    let at = match cut.rfind(char::is_whitespace) {
        Some(i) if i > cut.len() / 2 => i,
        _ => cut.len(), // one enormous word: cut inside it
    };
    format!("{}…", cut[..at].trim_end())
}

/// Cuts `s` to at most `max` bytes on a char boundary.
pub fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// The vectorizable count must call the same files binary as the
        /// obvious one (any length, any bytes, control-heavy or not).
        #[test]
        fn the_binary_sniff_counts_controls_like_a_plain_filter(
            bytes in prop::collection::vec(
                prop_oneof![any::<u8>(), 0u8..0x20, Just(b'a')], 0..9000),
        ) {
            let head = &bytes[..bytes.len().min(super::SNIFF_BYTES)];
            let plain = head
                .iter()
                .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f)
                .count();
            prop_assert_eq!(super::looks_binary(&bytes), plain * 20 > head.len());
        }

        /// The one-pass shortcut gives what decoding and then filtering every
        /// char gives, for text with and without the bytes it looks for.
        #[test]
        fn decoding_equals_the_char_by_char_definition(
            pieces in prop::collection::vec(prop_oneof![
                Just("plain words ".to_string()),
                Just("\u{a0}\u{85}\u{9f}\u{fffe}\u{ffff}\u{fffd}\u{e000}".to_string()),
                Just("اردو ’quotes’ 😀".to_string()),
                any::<char>().prop_map(String::from),
                (0u8..0x20).prop_map(|b| char::from(b).to_string()),
            ], 1..40),
            raw_byte in prop::option::of(0x80u8..=0xff),
        ) {
            let mut bytes = pieces.concat().into_bytes();
            if let Some(b) = raw_byte {
                bytes.push(b); // maybe invalid UTF-8: Windows-1252
            }
            let mut w = Vec::new();
            let got = super::decode(&bytes, &mut w);
            let unmarked = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let text = match std::str::from_utf8(unmarked) {
                Ok(s) => s.to_string(),
                Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(unmarked).0.into_owned(),
            };
            match got {
                Ok(got) => prop_assert_eq!(
                    got.as_ref(),
                    text.chars().filter(|&c| super::is_xml_text_char(c)).collect::<String>()
                ),
                Err(_) => prop_assert!(
                    super::looks_binary(unmarked) || unmarked.iter().all(u8::is_ascii_whitespace)
                ),
            }
        }
    }

    #[test]
    fn the_byte_check_agrees_with_the_char_check() {
        for s in [
            "plain ascii, tabs\tand\nnewlines\r",
            "Urdu اردو and CJK 中文 and emoji 😀",
            "nul \u{0} here",
            "esc \u{1b} here",
            "del \u{7f} here",
            "c1 \u{85} next line",
            "c1 edge \u{9f} and \u{a0} nbsp",
            "replacement \u{fffd} is fine",
            "noncharacters \u{fffe} and \u{ffff}",
            "\u{feff} BOM and \u{e000} private use",
        ] {
            assert_eq!(all_xml_text(s), s.chars().all(is_xml_text_char), "{s:?}");
            assert!(clean_xml_chars(s).chars().all(is_xml_text_char), "{s:?}");
        }
    }

    use super::*;

    #[test]
    fn windows_1252_bytes_become_the_right_characters() {
        let mut w = Vec::new();
        let text = decode(b"Minister\x92s \x93caf\xe9\x94 \x97 end", &mut w).expect("text");
        assert_eq!(text, "Minister’s “café” — end");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn xml_illegal_characters_are_dropped() {
        let mut w = Vec::new();
        let mut bytes = b"a\x1bb\x00c\x0bd \xef\xbf\xbe e\tf ".to_vec();
        bytes.extend_from_slice("plain words ".repeat(10).as_bytes());
        let text = decode(&bytes, &mut w).expect("text");
        assert!(text.starts_with("abcd  e\tf plain"), "{text:?}");
        assert!(w[0].contains("4 control"), "{w:?}");
    }

    #[test]
    fn empty_whitespace_and_binary_are_rejected() {
        let mut w = Vec::new();
        assert!(matches!(decode(b"", &mut w), Err(Reason::Empty)));
        assert!(matches!(decode(b" \n\t\n", &mut w), Err(Reason::Empty)));
        let binary: Vec<u8> = (0..=255u8).cycle().take(1024).collect();
        assert!(matches!(decode(&binary, &mut w), Err(Reason::Binary)));
    }

    #[test]
    fn truncation_prefers_word_boundaries() {
        assert_eq!(truncate_words("short", 10), "short");
        assert_eq!(truncate_words("one two three four", 12), "one two…");
        assert_eq!(truncate_words("abcdefghijklmnop", 6).chars().count(), 6);
        assert_eq!(truncate_bytes("héllo", 2), "h");
    }
}
