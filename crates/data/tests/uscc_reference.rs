//! `check_uscc` against the check-by-check implementation it replaced (kept here as it
//! was, as the reference): the same answer, error and all, for every single-character
//! change of valid codes, every pair of check characters after random and valid bodies,
//! and random and mutated codes.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use creditcity_data::code::{CodeError, check_uscc, is_valid_uscc};
use creditcity_data::generate::make_uscc;
use proptest::prelude::*;

// ---- The reference: `code.rs`'s USCC check before the single-pass table (commit 25c3ed5).

const INVALID: u8 = 0xFF;

/// Value of each byte in the 31-symbol USCC alphabet (`0-9 A-H J-N P Q R T U W X Y`),
/// lower-case letters accepted as upper-case; `INVALID` elsewhere.
static USCC_VALUE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let alphabet = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut i = 0;
    while i < alphabet.len() {
        t[alphabet[i] as usize] = i as u8;
        if alphabet[i].is_ascii_uppercase() {
            t[alphabet[i].to_ascii_lowercase() as usize] = i as u8;
        }
        i += 1;
    }
    t
};

/// Value of each byte for the organization code check: `0-9` and `A`=10 … `Z`=35.
static ORG_VALUE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = c - b'0';
        c += 1;
    }
    let mut c = b'A';
    while c <= b'Z' {
        t[c as usize] = c - b'A' + 10;
        t[c.to_ascii_lowercase() as usize] = c - b'A' + 10;
        c += 1;
    }
    t
};

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// The entity types each registration authority (position 1) may give (position 2), as a
/// bit set over the type's USCC value (GB 32100-2015, table 1).
static AUTHORITY_TYPES: [u32; 256] = {
    const fn bits(types: &[u8]) -> u32 {
        let mut b = 0u32;
        let mut i = 0;
        while i < types.len() {
            b |= 1 << (types[i] - b'0');
            i += 1;
        }
        b
    }
    let mut t = [0u32; 256];
    t[b'1' as usize] = bits(b"1239"); // 机构编制
    t[b'2' as usize] = bits(b"19"); // 外交
    t[b'3' as usize] = bits(b"123459"); // 司法行政
    t[b'4' as usize] = bits(b"19"); // 文化
    t[b'5' as usize] = bits(b"1239"); // 民政
    t[b'6' as usize] = bits(b"129"); // 旅游
    t[b'7' as usize] = bits(b"129"); // 宗教
    t[b'8' as usize] = bits(b"19"); // 工会
    t[b'9' as usize] = bits(b"123"); // 工商
    t[b'A' as usize] = bits(b"19"); // 中央军委改革和编制办公室
    t[b'N' as usize] = bits(b"1239"); // 农业
    t[b'Y' as usize] = bits(b"1"); // 其他
    t[b'a' as usize] = t[b'A' as usize];
    t[b'n' as usize] = t[b'N' as usize];
    t[b'y' as usize] = t[b'Y' as usize];
    t
};

#[inline]
fn reference_check_uscc(code: &str) -> Result<(), CodeError> {
    let Ok(b) = <&[u8; 18]>::try_from(code.as_bytes()) else {
        return Err(CodeError::Length {
            found: code.chars().count(),
        });
    };
    // One pass over the packed table: mod-31 sum, validity, digits of the region, and
    // the organization code's sum.
    let mut sum = 0u32;
    let mut flags = 0u32;
    for i in 0..17 {
        let t = PACKED[b[i] as usize];
        flags |= t;
        sum += (t & 0x1F) * USCC_WEIGHTS[i];
    }
    let last = PACKED[b[17] as usize];
    if (flags | last) & BAD != 0 {
        return Err(first_bad_character(code));
    }
    let types = AUTHORITY_TYPES[b[0] as usize];
    let t = PACKED[b[1] as usize] & 0x1F;
    if t >= 10 || types & (1 << t) == 0 {
        return Err(CodeError::AuthorityType {
            authority: char::from(b[0].to_ascii_uppercase()),
            entity_type: char::from(b[1].to_ascii_uppercase()),
        });
    }
    let mut region = 0u32;
    for &c in &b[2..8] {
        region |= PACKED[c as usize];
    }
    if region & NOT_DIGIT != 0 {
        return Err(CodeError::Region);
    }
    let mut org_sum = 0u32;
    for i in 0..8 {
        org_sum += ((PACKED[b[8 + i] as usize] >> 8) & 0x3F) * ORG_WEIGHTS[i];
    }
    let org = match 11 - org_sum % 11 {
        11 => 0,
        10 => 29, // 'X' in the USCC alphabet
        n => n,
    };
    if org != PACKED[b[16] as usize] & 0x1F {
        return Err(CodeError::OrganizationCheck {
            expected: org_check_char(org as u8),
            found: char::from(b[16].to_ascii_uppercase()),
        });
    }
    let expected = (31 - sum % 31) % 31;
    if last & 0x1F != expected {
        return Err(CodeError::Check {
            expected: char::from(USCC_ALPHABET[expected as usize]),
            found: char::from(b[17].to_ascii_uppercase()),
        });
    }
    Ok(())
}

const BAD: u32 = 1 << 16;
const NOT_DIGIT: u32 = 1 << 17;

/// Per byte: bits 0–4 the USCC value, bits 8–13 the organization code value, bit 16 set
/// outside the USCC alphabet, bit 17 set for a non-digit.
static PACKED: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let u = USCC_VALUE[i];
        let o = ORG_VALUE[i];
        let mut v = if u == INVALID { BAD } else { u as u32 };
        if o != INVALID {
            v |= (o as u32) << 8;
        }
        if !(i as u8).is_ascii_digit() {
            v |= NOT_DIGIT;
        }
        t[i] = v;
        i += 1;
    }
    t
};

#[cold]
fn first_bad_character(code: &str) -> CodeError {
    for (i, c) in code.chars().enumerate() {
        let ok = c.is_ascii() && USCC_VALUE[c as usize] != INVALID;
        if !ok {
            return CodeError::Character {
                position: (i + 1) as u8,
                found: c,
            };
        }
    }
    CodeError::Length {
        found: code.chars().count(),
    }
}

fn org_check_char(value: u8) -> char {
    match value {
        29 => 'X',
        v if v < 10 => char::from(b'0' + v),
        _ => '?',
    }
}

// ---- The comparisons.

fn agree(code: &str) {
    let expected = reference_check_uscc(code);
    assert_eq!(check_uscc(code), expected, "{code:?}");
    assert_eq!(is_valid_uscc(code), expected.is_ok(), "{code:?}");
}

/// Valid codes: the spec's, and built ones of every authority/type pair (defined or not)
/// and a few division codes, upper and lower case.
fn bases() -> Vec<String> {
    let mut v: Vec<String> = [
        "91110000600037341L",
        "121200004013590816",
        "91310115MA1K3BTP2B",
        "9144030071526726XG",
        "92340602MA2PBMEM24",
        "91350100M000100Y43",
        "91110108551385082Q",
        "11230500001755309F",
        "91230500MA1B3N1N2M",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    let firsts = "0123456789ABNYZ";
    let seconds = "0123456789AX";
    for a in firsts.chars() {
        for t in seconds.chars() {
            for (i, region) in ["510802", "110108", "100000"].iter().enumerate() {
                v.push(make_uscc(&format!("{a}{t}"), region, 7919 * i as u64 + 13));
            }
        }
    }
    // Bodies whose organization check character is X and 0.
    for seq in 0..2000u64 {
        let c = make_uscc("91", "440300", seq * 104_729);
        if matches!(c.as_bytes()[16], b'X' | b'0') {
            v.push(c);
        }
    }
    let lower: Vec<String> = v.iter().map(|c| c.to_ascii_lowercase()).collect();
    v.extend(lower);
    v
}

#[test]
fn every_single_character_change_of_valid_codes() {
    let bases = bases();
    let others = ['é', '中', '𝟘', 'Ｘ', '\u{a0}'];
    let mut n = 0u64;
    for c in &bases {
        agree(c);
        let b = c.as_bytes();
        for pos in 0..18 {
            for byte in 0u8..0x80 {
                let mut m = b.to_vec();
                m[pos] = byte;
                agree(std::str::from_utf8(&m).unwrap());
                n += 1;
            }
            for o in others {
                let mut s = String::new();
                s.push_str(&c[..pos]);
                s.push(o);
                s.push_str(&c[pos + 1..]);
                agree(&s);
            }
            // One character missing, one too many.
            agree(&format!("{}{}", &c[..pos], &c[pos + 1..]));
            agree(&format!("{}0{}", &c[..pos], &c[pos..]));
        }
    }
    assert!(n > 1_000_000, "{n}");
}

/// A small deterministic generator, for random bodies.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick(&mut self, from: &[u8]) -> u8 {
        from[(self.next() % from.len() as u64) as usize]
    }
}

#[test]
fn every_pair_of_check_characters_after_random_bodies() {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const MIXED: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXYabcxyzIOSVZ-";
    const ENDS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXYxyabIOSVZ ";
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut valid = 0u64;
    for k in 0..3000 {
        let mut body = [0u8; 16];
        match k % 3 {
            // Anything of the alphabet.
            0 => body.iter_mut().for_each(|c| *c = rng.pick(ALPHABET)),
            // A defined pair, a division code, a random organization code body.
            1 => {
                body[..2].copy_from_slice([b"91", b"92", b"12", b"N1", b"Y1", b"A9"][k % 6]);
                body[2..8]
                    .iter_mut()
                    .for_each(|c| *c = rng.pick(b"0123456789"));
                body[8..].iter_mut().for_each(|c| *c = rng.pick(ALPHABET));
            }
            // The same with some lower-case and foreign characters.
            _ => {
                body[..2].copy_from_slice(b"91");
                body[2..8]
                    .iter_mut()
                    .for_each(|c| *c = rng.pick(b"0123456789a"));
                body[8..].iter_mut().for_each(|c| *c = rng.pick(MIXED));
            }
        }
        let mut code = [0u8; 18];
        code[..16].copy_from_slice(&body);
        for &p16 in ENDS {
            for &p17 in ENDS {
                code[16] = p16;
                code[17] = p17;
                let s = std::str::from_utf8(&code).unwrap();
                agree(s);
                valid += u64::from(is_valid_uscc(s));
            }
        }
    }
    // Bodies of kinds 1 and 2 have a right pair of check characters among the 41 × 41.
    assert!(valid > 1000, "{valid}");
}

#[test]
fn errors_of_each_kind_are_reached() {
    let codes = [
        "9111000060003734",
        "9111000060003734IL",
        "94110000600037341B",
        "911100A0600037341L",
        "91110000600037342P",
        "91110000600037341N",
    ];
    let names: Vec<&str> = codes
        .iter()
        .map(|c| {
            agree(c);
            check_uscc(c).err().map_or("ok", CodeError::check_name)
        })
        .collect();
    assert_eq!(
        names,
        [
            "length",
            "character",
            "authority_type",
            "region",
            "organization_check",
            "check"
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn random_text_agrees(s in "\\PC{0,24}") {
        agree(&s);
    }

    #[test]
    fn random_alphanumeric_codes_agree(s in "[0-9A-Za-z]{18}") {
        agree(&s);
    }

    #[test]
    fn random_codes_of_the_alphabet_agree(s in "[1-9ANY][1-9][0-9]{6}[0-9A-HJ-NP-RTUW-Y]{8}[0-9X][0-9A-HJ-NP-RTUW-Y]") {
        agree(&s);
    }

    #[test]
    fn mutated_valid_codes_agree(
        at in "[0-9ANYZ][0-9A]",
        region in "[0-9]{6}",
        seq in any::<u64>(),
        changes in proptest::collection::vec((0usize..18, 0x20u8..0x7F), 0..4),
    ) {
        let mut b = make_uscc(&at, &region, seq).into_bytes();
        for (pos, byte) in changes {
            b[pos] = byte;
        }
        agree(std::str::from_utf8(&b).unwrap());
    }
}
