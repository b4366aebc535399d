//! USCC and organization code checks: the spec's test vectors and the cases python-stdnum gets wrong.

use creditcity_data::code::{
    CodeError, CodeKey, CodeStatus, check_organization_code, check_uscc, classify, region,
};

const VALID: [&str; 9] = [
    "91110000600037341L",
    "121200004013590816",
    "91310115MA1K3BTP2B",
    "9144030071526726XG",
    "92340602MA2PBMEM24",
    "91350100M000100Y43",
    "91110108551385082Q",
    "11230500001755309F",
    "91230500MA1B3N1N2M",
];

#[test]
fn spec_valid_codes_pass() {
    for c in VALID {
        assert_eq!(check_uscc(c), Ok(()), "{c}");
        assert_eq!(classify(c), CodeStatus::Valid);
    }
}

#[test]
fn wrong_check_character_names_the_expected_one() {
    assert_eq!(
        check_uscc("91110000600037341N"),
        Err(CodeError::Check {
            expected: 'L',
            found: 'N'
        })
    );
    assert_eq!(
        check_uscc("91350100M000100Y4A"),
        Err(CodeError::Check {
            expected: '3',
            found: 'A'
        })
    );
}

#[test]
fn letter_i_is_not_in_the_alphabet() {
    assert_eq!(
        check_uscc("9111000060003734IL"),
        Err(CodeError::Character {
            position: 17,
            found: 'I'
        })
    );
}

#[test]
fn seventeen_characters_is_a_length_error() {
    assert_eq!(
        check_uscc("91110000600037341"),
        Err(CodeError::Length { found: 17 })
    );
}

#[test]
fn embedded_organization_code_is_checked_even_when_mod_31_holds() {
    // stdnum accepts this one.
    assert_eq!(
        check_uscc("91110000600037342P"),
        Err(CodeError::OrganizationCheck {
            expected: '1',
            found: '2'
        })
    );
}

#[test]
fn undefined_authority_type_pair_is_refused() {
    // stdnum accepts this one.
    assert_eq!(
        check_uscc("94110000600037341B"),
        Err(CodeError::AuthorityType {
            authority: '9',
            entity_type: '4'
        })
    );
}

#[test]
fn codes_of_authorities_n_y_a_are_accepted() {
    // stdnum refuses N…, Y… and A… codes; these are built valid.
    for at in ["N1", "N2", "N3", "N9", "Y1", "A1", "A9"] {
        let c = creditcity_data::generate::make_uscc(at, "510802", 12_345);
        assert_eq!(check_uscc(&c), Ok(()), "{c}");
    }
    assert!(matches!(
        check_uscc(&creditcity_data::generate::make_uscc("Y2", "510802", 1)),
        Err(CodeError::AuthorityType { .. })
    ));
}

#[test]
fn every_single_character_substitution_is_caught() {
    let alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    for c in VALID {
        for pos in 0..18 {
            for sub in alphabet.chars() {
                let mut b: Vec<char> = c.chars().collect();
                if b[pos] == sub {
                    continue;
                }
                b[pos] = sub;
                let s: String = b.into_iter().collect();
                assert!(check_uscc(&s).is_err(), "{s} passed");
            }
        }
    }
}

#[test]
fn placeholder_is_no_code_not_a_wrong_code() {
    assert_eq!(classify("00000000000000000X"), CodeStatus::Placeholder);
    assert_eq!(classify("  "), CodeStatus::Empty);
    assert_eq!(classify(" 91110000600037341L "), CodeStatus::Valid);
    assert!(matches!(
        classify("91110000600037341N"),
        CodeStatus::Wrong(_)
    ));
}

#[test]
fn organization_code_standalone() {
    assert_eq!(check_organization_code("60003734-1"), Ok(()));
    assert_eq!(check_organization_code("600037341"), Ok(()));
    assert_eq!(check_organization_code("M000100Y4"), Ok(()));
    assert_eq!(
        check_organization_code("60003734-2"),
        Err(CodeError::OrganizationCheck {
            expected: '1',
            found: '2'
        })
    );
    assert_eq!(
        check_organization_code("6000373"),
        Err(CodeError::Length { found: 7 })
    );
    assert!(matches!(
        check_organization_code("6000#734-1"),
        Err(CodeError::Character { position: 5, .. })
    ));
}

#[test]
fn messages_say_what_is_right() {
    let e = check_uscc("91110000600037341N")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("应为“L”"), "{e}");
    let e = check_uscc("91110000600037342P")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("组织机构代码") && e.contains("应为“1”"), "{e}");
}

#[test]
fn region_and_keys() {
    assert_eq!(region("91510802MA62P5XK3L"), Some("510802"));
    assert_eq!(region("short"), None);
    let k = CodeKey::of("91110000600037341L");
    assert_eq!(k.to_code().as_deref(), Some("91110000600037341L"));
    assert_eq!(CodeKey::of("91110000600037341l"), k, "case folded");
    assert_eq!(CodeKey::of("不是代码").to_code(), None);
}
