//! Arbitrary bytes never panic, for every dataset, as CSV and as .xlsx.

use crate::common::settings;
use creditcity_data::code::{check_organization_code, check_uscc};
use creditcity_data::date::parse_cell;
use creditcity_data::{DatasetKind, Input, check};
use proptest::prelude::*;

fn header_then(bytes: &[u8], kind: DatasetKind) -> Vec<u8> {
    let header: Vec<&str> = kind.columns().iter().map(|c| c.name).collect();
    let mut v = header.join(",").into_bytes();
    v.push(b'\n');
    v.extend_from_slice(bytes);
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), k in 0usize..7) {
        let kind = DatasetKind::ALL[k];
        let s = settings();
        let _ = check(kind, Input::bytes(&bytes), &s);
        let _ = check(kind, Input::bytes(&header_then(&bytes, kind)), &s);
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(&bytes);
        let _ = check(kind, Input::bytes(&zip), &s);
    }

    #[test]
    fn arbitrary_text_rows_never_panic(rows in proptest::collection::vec("[0-9A-Z,\"\\n 年月日/\\-:是否法人存续黑名单]{0,80}", 0..20), k in 0usize..7) {
        let kind = DatasetKind::ALL[k];
        let text = rows.join("\n");
        let _ = check(kind, Input::bytes(&header_then(text.as_bytes(), kind)), &settings());
    }

    #[test]
    fn code_and_date_parsers_never_panic(s in "\\PC{0,24}") {
        let _ = check_uscc(&s);
        let _ = check_organization_code(&s);
        let _ = parse_cell(&s);
    }
}
