//! What the wrk-driven benches share: the CSRF token of a page, and wrk's report read
//! back as numbers.

/// The CSRF token of a page's forms (`name="csrf" value="…"`), empty if none.
pub fn scrape(body: &str) -> String {
    let key = "name=\"csrf\" value=\"";
    body.find(key).map(|i| &body[i + key.len()..]).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned()
}

/// One wrk run as numbers (latencies in milliseconds).
pub struct WrkStats {
    pub rps: f64,
    pub p50: f64,
    pub p99: f64,
    pub requests: u64,
    /// Non-2xx/3xx answers and socket errors.
    pub errors: u64,
    /// The numbers of the `SAVED …` line a write script prints at its end, if any.
    pub saved: Option<Vec<u64>>,
}

/// Reads wrk's `--latency` report.
pub fn parse_wrk(text: &str) -> WrkStats {
    let ms = |label: &str| -> f64 {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().nth(1))
            .map_or(f64::NAN, |v| {
                let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
                let x: f64 = num.parse().unwrap_or(f64::NAN);
                match unit {
                    "us" => x / 1000.0,
                    "s" => x * 1000.0,
                    "m" => x * 60_000.0,
                    _ => x,
                }
            })
    };
    let rps = text.lines().find(|l| l.starts_with("Requests/sec:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let requests = text.lines().find(|l| l.contains("requests in")).and_then(|l| l.split_whitespace().next()).and_then(|v| v.parse().ok()).unwrap_or(0);
    let non_2xx = text.lines().find(|l| l.contains("Non-2xx or 3xx responses:")).and_then(|l| l.split(':').nth(1)).and_then(|v| v.trim().parse().ok()).unwrap_or(0u64);
    let socket = text.lines().find(|l| l.contains("Socket errors:")).map_or(0, |l| l.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u64>().ok()).sum::<u64>());
    let saved = text.lines().find_map(|l| l.strip_prefix("SAVED ")).map(|l| l.split_whitespace().filter_map(|v| v.parse().ok()).collect());
    WrkStats { rps, p50: ms("50%"), p99: ms("99%"), requests, errors: non_2xx + socket, saved }
}
