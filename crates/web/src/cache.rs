//! Work done once per version of the store, not per request: page data derived from the
//! snapshot (and rendered pieces such as the report), kept until the store's version
//! (the newest audit id, moved by any process) or the Beijing day changes.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

struct Entry {
    /// When it was kept: the oldest go first when the cache is full.
    seq: u64,
    version: i64,
    today: String,
    value: Arc<dyn Any + Send + Sync>,
}

/// At most this many entries are kept.
const MAX_ENTRIES: usize = 2048;

/// Entries by key (a page, or a page and its object); one version each.
#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
    seq: std::sync::atomic::AtomicU64,
    /// One lock per key being computed: requests that miss the same entry at once wait
    /// for one computation instead of each doing it (a burst after every change).
    computing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Cache {
    /// The entry under `key` if it was computed at this version and day.
    pub fn get<T: Send + Sync + 'static>(&self, key: &str, version: i64, today: &str) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = entries.get(key).filter(|e| e.version == version && e.today == today)?;
        e.value.clone().downcast::<T>().ok()
    }

    /// The lock under which the entry of `key` is computed.
    pub fn computing(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.computing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if locks.len() >= MAX_ENTRIES {
            // Only locks nobody holds or waits for can go.
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(key.to_owned()).or_default().clone()
    }

    /// Keeps `value` under `key`, unless a newer version is already there.
    pub fn put<T: Send + Sync + 'static>(&self, key: String, version: i64, today: &str, value: Arc<T>) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.get(&key).is_some_and(|e| e.version > version) {
            return;
        }
        // Keys include cities and query strings (filters, pages): when full, the entries
        // of past days go, then the oldest quarter.
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.today == today);
            if entries.len() >= MAX_ENTRIES {
                let mut seqs: Vec<u64> = entries.values().map(|e| e.seq).collect();
                let (_, cut, _) = seqs.select_nth_unstable(MAX_ENTRIES / 4);
                let cut = *cut;
                entries.retain(|_, e| e.seq > cut);
            }
        }
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        entries.insert(key, Entry { seq, version, today: today.to_owned(), value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_for_its_version_and_day_only() {
        let c = Cache::default();
        c.put("gaps".to_owned(), 7, "2026-11-30", Arc::new(42_u32));
        assert_eq!(c.get::<u32>("gaps", 7, "2026-11-30").as_deref(), Some(&42));
        assert!(c.get::<u32>("gaps", 8, "2026-11-30").is_none(), "a newer store version");
        assert!(c.get::<u32>("gaps", 7, "2026-12-01").is_none(), "the next day");
        assert!(c.get::<String>("gaps", 7, "2026-11-30").is_none(), "another type");
        c.put("gaps".to_owned(), 6, "2026-11-30", Arc::new(1_u32));
        assert_eq!(c.get::<u32>("gaps", 7, "2026-11-30").as_deref(), Some(&42), "an older version never replaces a newer one");
        for i in 0..2 * MAX_ENTRIES {
            c.put(format!("audit:{i}"), 8, "2026-11-30", Arc::new(i));
        }
        let len = c.entries.lock().map_or_else(|e| panic!("{e}"), |e| e.len());
        assert!(len <= MAX_ENTRIES, "bounded: {len}");
    }
}
