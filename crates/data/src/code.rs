//! Unified social credit codes (USCC, GB 32100-2015) and organization codes (GB 11714-1997).
//!
//! The checks run over byte tables without allocating, so a million codes take some
//! 15 ms on one core. Every failure says which check failed and, for a check
//! character, the character the rest of the code calls for.

use std::fmt;

/// The placeholder written for an individual business (个体工商户) that has no code yet.
/// It is *no code*, not a wrong code.
pub const PLACEHOLDER: &str = "00000000000000000X";

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

/// Why a code is wrong: the first check that failed, in the order the checks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeError {
    /// Not 18 characters (USCC) or 9 characters (organization code).
    Length { found: usize },
    /// A character outside the alphabet, at a 1-based position.
    Character { position: u8, found: char },
    /// The registration authority (position 1) and entity type (position 2) pair is not
    /// defined by GB 32100-2015.
    AuthorityType { authority: char, entity_type: char },
    /// Positions 3–8 are not a six-digit administrative division code.
    Region,
    /// The embedded organization code's check character (position 17) is wrong.
    OrganizationCheck { expected: char, found: char },
    /// The USCC check character (position 18) is wrong.
    Check { expected: char, found: char },
}

impl CodeError {
    /// A short name of the failed check, stable for filtering and tests.
    pub fn check_name(self) -> &'static str {
        match self {
            CodeError::Length { .. } => "length",
            CodeError::Character { .. } => "character",
            CodeError::AuthorityType { .. } => "authority_type",
            CodeError::Region => "region",
            CodeError::OrganizationCheck { .. } => "organization_check",
            CodeError::Check { .. } => "check",
        }
    }

    /// The check character the code calls for, when a check character is what failed.
    pub fn expected(self) -> Option<char> {
        match self {
            CodeError::OrganizationCheck { expected, .. } | CodeError::Check { expected, .. } => {
                Some(expected)
            }
            _ => None,
        }
    }
}

impl fmt::Display for CodeError {
    /// Chinese: what is wrong and what is right.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CodeError::Length { found } => {
                write!(f, "长度为 {found} 位,统一社会信用代码应为 18 位")
            }
            CodeError::Character { position, found } => write!(
                f,
                "第 {position} 位“{found}”不是代码字符(只可用数字和除 I、O、S、V、Z 外的大写字母)"
            ),
            CodeError::AuthorityType {
                authority,
                entity_type,
            } => write!(
                f,
                "登记管理部门码“{authority}”与机构类别码“{entity_type}”的组合未在 GB 32100-2015 中定义"
            ),
            CodeError::Region => write!(f, "第 3–8 位应为 6 位数字的行政区划码"),
            CodeError::OrganizationCheck { expected, found } => write!(
                f,
                "内嵌组织机构代码校验位(第 17 位)应为“{expected}”,实际为“{found}”"
            ),
            CodeError::Check { expected, found } => write!(
                f,
                "校验位(第 18 位)按前 17 位计算应为“{expected}”,实际为“{found}”(也可能是前 17 位有录错的字符)"
            ),
        }
    }
}

/// What a code cell holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeStatus {
    /// Empty cell.
    Empty,
    /// The placeholder [`PLACEHOLDER`]: no code.
    Placeholder,
    /// A code that passes every check.
    Valid,
    /// A code that fails a check.
    Wrong(CodeError),
}

/// Classify a code cell (surrounding whitespace ignored).
pub fn classify(cell: &str) -> CodeStatus {
    let code = cell.trim();
    if code.is_empty() {
        CodeStatus::Empty
    } else if code.eq_ignore_ascii_case(PLACEHOLDER) {
        CodeStatus::Placeholder
    } else {
        match check_uscc(code) {
            Ok(()) => CodeStatus::Valid,
            Err(e) => CodeStatus::Wrong(e),
        }
    }
}

/// Check a USCC: length, alphabet, authority/type pair, division code, embedded
/// organization code check character, and the mod-31 check character.
///
/// ```
/// use creditcity_data::code::{check_uscc, CodeError};
/// assert_eq!(check_uscc("91110000600037341L"), Ok(()));
/// assert_eq!(
///     check_uscc("91110000600037341N"),
///     Err(CodeError::Check { expected: 'L', found: 'N' })
/// );
/// ```
#[inline]
pub fn check_uscc(code: &str) -> Result<(), CodeError> {
    match <&[u8; 18]>::try_from(code.as_bytes()) {
        Ok(b) if passes(b) => Ok(()),
        _ => check_in_order(code),
    }
}

/// Whether 18 bytes pass every check of [`check_uscc`]: the common case, every check
/// folded into one answer. Which check failed is worked out by
/// [`check_in_order`], only for the codes that fail.
///
/// One table lookup and one addition a character: [`POSITION`] holds, for each position
/// and byte, the character's terms of both check sums and a count of 1 if the byte may
/// not stand there. The check characters are tested as sums that must be multiples: the
/// USCC check character (value `v`) is the one that makes `Σ value × weight + v` a
/// multiple of 31, the organization code's (value `c`, `X` = 10) the one that makes its
/// sum `+ c` a multiple of 11.
#[inline]
#[allow(clippy::needless_bitwise_bool)] // four cheap tests, no order among them
fn passes(b: &[u8; 18]) -> bool {
    let mut s = 0u32;
    for i in 0..18 {
        s += POSITION[i][b[i] as usize];
    }
    let pair = AUTHORITY_TYPES[b[0] as usize] & TYPE_BIT[b[1] as usize];
    (s >> WRONG_SHIFT == 0) & (pair != 0) & ((s & 0x3FF) % 31 == 0) & (((s >> 10) & 0x7F) % 11 == 0)
}

/// `USCC_WEIGHTS` and the check character's own weight 1.
const USCC_WEIGHTS_18: [u32; 18] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28, 1,
];
/// Where [`POSITION`]'s count of characters that may not stand where they are starts.
const WRONG_SHIFT: u32 = 24;

/// For each position (0-based) and byte: bits 0–9 the character's term of the mod-31
/// sum (`value × weight mod 31`), bits 10–16 its term of the embedded organization
/// code's mod-11 sum (positions 8–15: `value × weight mod 11`; position 16, the check
/// character: its value, `X` = 10), and `1 << WRONG_SHIFT` instead if the byte may not
/// stand there: outside the alphabet, a non-digit in the division code (positions 2–7),
/// anything but `0-9` and `X` as the organization code's check character (position 16).
/// Eighteen terms of at most 30 and nine of at most 10 keep the fields apart.
static POSITION: [[u32; 256]; 18] = {
    let mut t = [[0u32; 256]; 18];
    let mut i = 0;
    while i < 18 {
        let mut c = 0;
        while c < 256 {
            let byte = c as u8;
            let u = USCC_VALUE[c];
            let org_check = if byte.is_ascii_digit() {
                (byte - b'0') as u32
            } else if byte == b'X' || byte == b'x' {
                10
            } else {
                INVALID as u32
            };
            let wrong = u == INVALID
                || (i >= 2 && i < 8 && !byte.is_ascii_digit())
                || (i == 16 && org_check == INVALID as u32);
            t[i][c] = if wrong {
                1 << WRONG_SHIFT
            } else {
                let mut e = (u as u32 * USCC_WEIGHTS_18[i]) % 31;
                if i >= 8 && i < 16 {
                    e |= ((ORG_VALUE[c] as u32 * ORG_WEIGHTS[i - 8]) % 11) << 10;
                } else if i == 16 {
                    e |= org_check << 10;
                }
                e
            };
            c += 1;
        }
        i += 1;
    }
    t
};

/// The entity type (position 2) as a bit of [`AUTHORITY_TYPES`]' sets: `1 << d` for a
/// digit `d`, 0 for anything else.
static TYPE_BIT: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut d = 0;
    while d < 10 {
        t[(b'0' + d) as usize] = 1 << d;
        d += 1;
    }
    t
};

/// The checks one after another, in the order of [`check_uscc`]'s documentation, to
/// say which one a code fails first (and the check character it calls for). Codes that
/// fail are few; [`passes`] answers for the others. The two agree on every code
/// (tests/uscc_reference.rs compares them).
#[cold]
#[inline(never)]
fn check_in_order(code: &str) -> Result<(), CodeError> {
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

/// Whether a USCC passes every check (the fast form of [`check_uscc`]: a failing code's
/// failed check is not worked out).
#[inline]
pub fn is_valid_uscc(code: &str) -> bool {
    <&[u8; 18]>::try_from(code.as_bytes()).is_ok_and(passes)
}

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

/// The organization code check value of 8 body characters (0–10, 10 = `X`), or
/// `INVALID` for a character outside `0-9A-Z`. Values are in the USCC alphabet's
/// numbering, where `X` is 29: the caller compares with the USCC value of position 17.
#[inline]
fn org_check_value(body: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, &c) in body.iter().enumerate() {
        let v = ORG_VALUE[c as usize];
        if v == INVALID {
            return INVALID;
        }
        sum += u32::from(v) * ORG_WEIGHTS[i];
    }
    match 11 - sum % 11 {
        11 => 0,
        10 => 29, // 'X' in the USCC alphabet
        n => n as u8,
    }
}

fn org_check_char(value: u8) -> char {
    match value {
        29 => 'X',
        v if v < 10 => char::from(b'0' + v),
        _ => '?',
    }
}

/// Check a standalone organization code (GB 11714-1997): 8 body characters `0-9A-Z`
/// and a check character; a hyphen before the check character is allowed
/// (`60003734-1`).
pub fn check_organization_code(code: &str) -> Result<(), CodeError> {
    let compact: Vec<u8> = code.trim().bytes().filter(|&c| c != b'-').collect();
    if compact.len() != 9 {
        return Err(CodeError::Length {
            found: compact.len(),
        });
    }
    for (i, &c) in compact[..8].iter().enumerate() {
        if ORG_VALUE[c as usize] == INVALID {
            return Err(CodeError::Character {
                position: (i + 1) as u8,
                found: char::from(c),
            });
        }
    }
    let expected = org_check_char(org_check_value(&compact[..8]));
    let found = char::from(compact[8].to_ascii_uppercase());
    if found == expected {
        Ok(())
    } else {
        Err(CodeError::OrganizationCheck { expected, found })
    }
}

/// Positions 3–8 of a USCC: the administrative division code of the registering authority.
pub fn region(code: &str) -> Option<&str> {
    let code = code.trim();
    if code.len() == 18 && code.is_ascii() {
        code.get(2..8)
            .filter(|r| r.bytes().all(|c| c.is_ascii_digit()))
    } else {
        None
    }
}

/// Whether a valid code belongs to an individual business (工商 `9`, type `2`).
pub fn is_individual_business(code: &str) -> bool {
    let b = code.trim().as_bytes();
    b.len() == 18 && b[0] == b'9' && b[1] == b'2'
}

/// A compact, exact key for an 18-character alphanumeric code (6 bits a character,
/// case folded), or a 64-bit hash with the top bit set for anything else. Used to index
/// entities by code without keeping strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeKey(pub u128);

impl CodeKey {
    pub fn of(code: &str) -> CodeKey {
        let b = code.trim().as_bytes();
        if b.len() == 18 && b.iter().all(u8::is_ascii_alphanumeric) {
            let mut k = 0u128;
            for &c in b {
                let v = match c {
                    b'0'..=b'9' => c - b'0',
                    b'A'..=b'Z' => c - b'A' + 10,
                    _ => c - b'a' + 10,
                };
                k = (k << 6) | u128::from(v);
            }
            CodeKey(k)
        } else {
            CodeKey((1u128 << 127) | u128::from(crate::hash_str(code.trim())))
        }
    }

    /// The code rebuilt from an exact key; `None` for a hashed key.
    pub fn to_code(self) -> Option<String> {
        if self.0 >> 127 == 1 {
            return None;
        }
        let mut s = String::with_capacity(18);
        for i in (0..18).rev() {
            let v = ((self.0 >> (6 * i)) & 0x3F) as u8;
            s.push(char::from(if v < 10 { b'0' + v } else { b'A' + v - 10 }));
        }
        Some(s)
    }
}
