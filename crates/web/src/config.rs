//! Configuration: a file, then `CREDITCITY_…` environment variables, then flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

// Independent settings of a file, each a yes or no: not a state machine.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The store: a SQLite file (evidence beside it), or a `postgres://…` URL.
    pub store: String,
    /// The directory of evidence and dataset files: required with PostgreSQL (every
    /// server of one database must name the same directory); with SQLite, beside the
    /// file unless given.
    pub files: Option<PathBuf>,
    /// The assessment served for its city instead of the city's newest (id or city).
    pub assessment: Option<String>,
    /// The largest evidence file accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The largest dataset file accepted (web upload and API), in bytes.
    pub max_dataset_bytes: u64,
    /// Mark the session cookie `Secure` (when served behind HTTPS).
    pub secure_cookies: bool,
    /// Served behind a reverse proxy on this machine: the client's address (for the
    /// sign-in throttle and the log) is the last of the proxy's `X-Forwarded-For`.
    pub behind_proxy: bool,
    /// Log as JSON lines instead of text.
    pub log_json: bool,
    /// Load the example city and demo accounts into an empty store.
    pub demo: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store: "creditcity.db".to_owned(),
            files: None,
            assessment: None,
            max_upload_bytes: creditcity_app::DEFAULT_MAX_EVIDENCE_BYTES,
            max_dataset_bytes: DEFAULT_MAX_DATASET_BYTES,
            secure_cookies: false,
            behind_proxy: false,
            log_json: false,
            demo: false,
        }
    }
}

/// The default limit of one dataset file: 512 MiB (a small city's records are tens of
/// megabytes; a large one's register a few hundred).
pub const DEFAULT_MAX_DATASET_BYTES: u64 = 512 * 1024 * 1024;

/// The default configuration as a commented file.
pub const DEFAULT_FILE: &str = r#"# creditcity serve — configuration. Every key is optional; environment variables
# CREDITCITY_LISTEN, CREDITCITY_STORE, CREDITCITY_FILES, CREDITCITY_ASSESSMENT, CREDITCITY_MAX_UPLOAD_BYTES,
# CREDITCITY_MAX_DATASET_BYTES, CREDITCITY_SECURE_COOKIES, CREDITCITY_BEHIND_PROXY, CREDITCITY_LOG_JSON override the
# file; flags override both.

# Where to listen. Keep it on 127.0.0.1 behind a reverse proxy that terminates HTTPS.
listen = "127.0.0.1:8080"
# The store: a SQLite file, created if absent; evidence files go in NAME.evidence/ beside it.
# Or a PostgreSQL database, created if absent, which several servers may share:
# store = "postgres://creditcity:secret@db.example/creditcity"
# (a process keeps 6 connections for reads and 3 for writes to it; the environment
# variable CREDITCITY_POOL_SIZE, 1–200, sets the first, the second is half of it)
store = "creditcity.db"
# The directory of evidence and dataset files (by content hash). Required with
# PostgreSQL: every server of the database must see the same directory.
# files = "/srv/creditcity/files"
# Every city of the store is served, each at its newest assessment on the rubric; a
# session sees the cities its account may see. To serve an older assessment (another
# period) for its city instead, name it (id or city name):
# assessment = "青川市"
# The largest evidence file accepted, in bytes (50 MiB).
max_upload_bytes = 52428800
# The largest dataset file accepted (upload on the 数据 page, or POST /api/v1/datasets/…),
# in bytes (512 MiB). Uploads are streamed to disk, never held in memory.
max_dataset_bytes = 536870912
# Mark the session cookie Secure: set to true when served over HTTPS.
secure_cookies = false
# Behind a reverse proxy (nginx) on this machine: take the client's address for the
# sign-in throttle from the last X-Forwarded-For entry, which the proxy must set
# (proxy_set_header X-Forwarded-For $remote_addr;). Leave false when clients connect
# directly: they could then choose the header.
behind_proxy = false
# Log JSON lines (for a log collector) instead of text.
log_json = false
"#;

impl Config {
    /// Reads the file (if given), then applies the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?
            }
            None => Self::default(),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(v) = env("CREDITCITY_LISTEN") {
            config.listen = v.parse().map_err(|e| format!("CREDITCITY_LISTEN = {v:?}: {e}"))?;
        }
        if let Some(v) = env("CREDITCITY_STORE") {
            config.store = v;
        }
        if let Some(v) = env("CREDITCITY_FILES") {
            config.files = Some(PathBuf::from(v));
        }
        if let Some(v) = env("CREDITCITY_ASSESSMENT") {
            config.assessment = Some(v);
        }
        if let Some(v) = env("CREDITCITY_MAX_UPLOAD_BYTES") {
            config.max_upload_bytes = v.parse().map_err(|e| format!("CREDITCITY_MAX_UPLOAD_BYTES = {v:?}: {e}"))?;
        }
        if let Some(v) = env("CREDITCITY_MAX_DATASET_BYTES") {
            config.max_dataset_bytes = v.parse().map_err(|e| format!("CREDITCITY_MAX_DATASET_BYTES = {v:?}: {e}"))?;
        }
        if let Some(v) = env("CREDITCITY_SECURE_COOKIES") {
            config.secure_cookies = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("CREDITCITY_BEHIND_PROXY") {
            config.behind_proxy = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("CREDITCITY_LOG_JSON") {
            config.log_json = matches!(v.as_str(), "1" | "true" | "yes");
        }
        Ok(config)
    }

    /// Where the store is, as configured.
    pub fn location(&self) -> Result<creditcity_store::Location, String> {
        creditcity_store::Location::parse(&self.store, self.files.as_deref()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_defaults_are_the_defaults() {
        let from_file: Config = toml::from_str(DEFAULT_FILE).unwrap_or_else(|e| panic!("{e}"));
        let d = Config::default();
        assert_eq!(from_file.listen, d.listen);
        assert_eq!(from_file.store, d.store);
        assert_eq!(from_file.max_upload_bytes, d.max_upload_bytes);
        assert_eq!(from_file.max_dataset_bytes, d.max_dataset_bytes);
        assert!(toml::from_str::<Config>("lisen = \"0.0.0.0:1\"").is_err(), "a typo is an error");
    }
}
