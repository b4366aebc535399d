//! [`Facts`] as bytes, so that an integration can keep what a checked file contributes to
//! the derivations next to the file, and derive again without reading every other
//! dataset anew. The bytes are only valid with the [`Settings`](crate::Settings) the file
//! was checked with (the caller keys them by the file's hash and the settings); a
//! version byte makes bytes of another layout decode to `None`, never to wrong facts.

use crate::check::{
    ApprovalFacts, CaseFacts, CommitmentFacts, DecisionFacts, EntityFlags, Facts, ListEntry,
    ListFacts, RegisterFacts, RemovalReason,
};
use crate::code::CodeKey;
use crate::date::Date;

/// The layout's version: bump it when a `Facts` type changes.
const VERSION: u8 = 1;
const MAGIC: &[u8; 3] = b"CCF";

impl Facts {
    /// The dataset the facts are of.
    pub fn kind(&self) -> crate::DatasetKind {
        use crate::DatasetKind as K;
        match self {
            Facts::Register(_) => K::Register,
            Facts::Licences(_) => K::Licences,
            Facts::Penalties(_) => K::Penalties,
            Facts::Lists(_) => K::Lists,
            Facts::Commitments(_) => K::Commitments,
            Facts::ApprovalItems(_) => K::ApprovalItems,
            Facts::Cases(_) => K::Cases,
        }
    }

    /// The facts as bytes (see [`Facts::decode`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(64));
        w.0.extend_from_slice(MAGIC);
        w.u8(VERSION);
        match self {
            Facts::Register(f) => {
                w.u8(0);
                for n in [
                    f.entities,
                    f.existing_at_start,
                    f.converted_at_start,
                    f.individual_at_start,
                    f.with_code,
                    f.wrong_codes,
                    f.duplicate_codes,
                    f.legal_at_end,
                    f.new_in_window,
                ] {
                    w.u64(n);
                }
                w.u64(f.flagged.len() as u64);
                // Sorted, so that equal facts give equal bytes.
                let mut flagged: Vec<_> = f.flagged.iter().collect();
                flagged.sort_unstable_by_key(|(k, _)| **k);
                for (k, e) in flagged {
                    w.u128(k.0);
                    w.u8(u8::from(e.revoked)
                        | u8::from(e.abnormal) << 1
                        | u8::from(e.lost) << 2
                        | u8::from(e.rated_poor) << 3
                        | u8::from(e.existing_at_start) << 4);
                    w.date(e.report);
                }
            }
            Facts::Licences(f) | Facts::Penalties(f) => {
                w.u8(if matches!(self, Facts::Licences(_)) { 1 } else { 2 });
                w.u8(u8::from(f.has_publication));
                for n in [f.in_window, f.reported, f.on_time, f.late, f.undecided, f.portal_records] {
                    w.u64(n);
                }
            }
            Facts::Lists(f) => {
                w.u8(3);
                w.u64(f.portal_records);
                w.u64(f.entries.len() as u64);
                for e in &f.entries {
                    w.u128(e.code.0);
                    w.u8(u8::from(e.black));
                    w.date(Some(e.decided));
                    w.date(e.removed);
                    w.u8(match e.reason {
                        None => 0,
                        Some(RemovalReason::Rectified) => 1,
                        Some(RemovalReason::Repaired) => 2,
                        Some(RemovalReason::Expired) => 3,
                        Some(RemovalReason::Other) => 4,
                    });
                    w.date(e.trained);
                    w.date(e.report);
                    w.u64(e.row);
                }
            }
            Facts::Commitments(f) => {
                w.u8(4);
                for n in [f.voluntary_in_window, f.self_discipline_in_window, f.portal_records] {
                    w.u64(n);
                }
                w.u64(f.repair.len() as u64);
                for (k, d) in &f.repair {
                    w.u128(k.0);
                    w.date(Some(*d));
                }
            }
            Facts::ApprovalItems(f) => {
                w.u8(5);
                for n in [f.total, f.substitution, f.tolerance] {
                    w.u64(n);
                }
                w.u8(u8::from(f.has_35_column));
            }
            Facts::Cases(f) => {
                w.u8(6);
                w.u64(f.total);
                w.u64(f.valid);
            }
        }
        w.0
    }

    /// Facts from [`Facts::encode`]'s bytes; `None` for bytes of another version or
    /// anything malformed.
    pub fn decode(bytes: &[u8]) -> Option<Facts> {
        let mut r = Reader(bytes);
        if r.take(3)? != MAGIC || r.u8()? != VERSION {
            return None;
        }
        let facts = match r.u8()? {
            0 => {
                let mut f = RegisterFacts {
                    entities: r.u64()?,
                    existing_at_start: r.u64()?,
                    converted_at_start: r.u64()?,
                    individual_at_start: r.u64()?,
                    with_code: r.u64()?,
                    wrong_codes: r.u64()?,
                    duplicate_codes: r.u64()?,
                    legal_at_end: r.u64()?,
                    new_in_window: r.u64()?,
                    flagged: std::collections::HashMap::new(),
                };
                let n = r.len(16 + 1 + 4)?;
                f.flagged.reserve(n);
                for _ in 0..n {
                    let k = CodeKey(r.u128()?);
                    let bits = r.u8()?;
                    let report = r.date()?;
                    f.flagged.insert(
                        k,
                        EntityFlags {
                            revoked: bits & 1 != 0,
                            abnormal: bits & 2 != 0,
                            lost: bits & 4 != 0,
                            rated_poor: bits & 8 != 0,
                            existing_at_start: bits & 16 != 0,
                            report,
                        },
                    );
                }
                Facts::Register(f)
            }
            k @ (1 | 2) => {
                let f = DecisionFacts {
                    has_publication: r.u8()? != 0,
                    in_window: r.u64()?,
                    reported: r.u64()?,
                    on_time: r.u64()?,
                    late: r.u64()?,
                    undecided: r.u64()?,
                    portal_records: r.u64()?,
                };
                if k == 1 { Facts::Licences(f) } else { Facts::Penalties(f) }
            }
            3 => {
                let portal_records = r.u64()?;
                let n = r.len(16 + 1 + 4 + 4 + 1 + 4 + 4 + 8)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    entries.push(ListEntry {
                        code: CodeKey(r.u128()?),
                        black: r.u8()? != 0,
                        decided: r.date()??,
                        removed: r.date()?,
                        reason: match r.u8()? {
                            0 => None,
                            1 => Some(RemovalReason::Rectified),
                            2 => Some(RemovalReason::Repaired),
                            3 => Some(RemovalReason::Expired),
                            4 => Some(RemovalReason::Other),
                            _ => return None,
                        },
                        trained: r.date()?,
                        report: r.date()?,
                        row: r.u64()?,
                    });
                }
                Facts::Lists(ListFacts { entries, portal_records })
            }
            4 => {
                let (voluntary_in_window, self_discipline_in_window, portal_records) =
                    (r.u64()?, r.u64()?, r.u64()?);
                let n = r.len(16 + 4)?;
                let mut repair = Vec::with_capacity(n);
                for _ in 0..n {
                    repair.push((CodeKey(r.u128()?), r.date()??));
                }
                Facts::Commitments(CommitmentFacts {
                    voluntary_in_window,
                    self_discipline_in_window,
                    repair,
                    portal_records,
                })
            }
            5 => Facts::ApprovalItems(ApprovalFacts {
                total: r.u64()?,
                substitution: r.u64()?,
                tolerance: r.u64()?,
                has_35_column: r.u8()? != 0,
            }),
            6 => Facts::Cases(CaseFacts {
                total: r.u64()?,
                valid: r.u64()?,
            }),
            _ => return None,
        };
        r.0.is_empty().then_some(facts)
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u128(&mut self, v: u128) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// A date as its day number; `i32::MIN` for none.
    fn date(&mut self, d: Option<Date>) {
        self.0
            .extend_from_slice(&d.map_or(i32::MIN, Date::days).to_le_bytes());
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)?.try_into().ok().map(u64::from_le_bytes)
    }
    fn u128(&mut self) -> Option<u128> {
        self.take(16)?.try_into().ok().map(u128::from_le_bytes)
    }
    /// `Some(None)` for no date.
    #[allow(clippy::option_option)] // outer: the bytes ran out; inner: no date
    fn date(&mut self) -> Option<Option<Date>> {
        let d = i32::from_le_bytes(self.take(4)?.try_into().ok()?);
        Some((d != i32::MIN).then(|| Date::from_days(d)))
    }
    /// A count of items of `size` bytes each, refused if the bytes cannot hold them.
    fn len(&mut self, size: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n.checked_mul(size)? <= self.0.len()).then_some(n)
    }
}
