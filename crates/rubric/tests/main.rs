//! Behaviour of the rubric and the engine, as a city would notice it.

mod cases;
mod exactness;
mod explanations;
mod properties;
mod rubric_file;

use creditcity_rubric::Rubric;

/// The embedded rubric, loaded once.
///
/// # Panics
/// When the embedded rubric does not load: every other test would be meaningless.
pub fn rubric() -> &'static Rubric {
    static RUBRIC: std::sync::OnceLock<Rubric> = std::sync::OnceLock::new();
    RUBRIC.get_or_init(|| match Rubric::embedded_2019() {
        Ok(r) => r,
        Err(e) => panic!("the embedded rubric must load:\n{e}"),
    })
}
