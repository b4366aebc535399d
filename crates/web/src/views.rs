//! Templates (embedded, auto-escaped, strict about undefined names), the frame every
//! page shares, and how values, instants, sources and sizes are shown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::response::{Html, Response};
use creditcity_rubric::model::Input;
use creditcity_store::{SourceKind, UnitId};
use minijinja::Environment;
use serde::Serialize;

use crate::error::WebError;
use crate::gzip::{self, Deflated};

const TEMPLATES: [(&str, &str); 17] = [
    ("report.html", include_str!("../templates/report.html")),
    ("gaps.html", include_str!("../templates/gaps.html")),
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("dashboard.html", include_str!("../templates/dashboard.html")),
    ("rules.html", include_str!("../templates/rules.html")),
    ("rule.html", include_str!("../templates/rule.html")),
    ("unit.html", include_str!("../templates/unit.html")),
    ("review.html", include_str!("../templates/review.html")),
    ("admin.html", include_str!("../templates/admin.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("data.html", include_str!("../templates/data.html")),
    ("data_job.html", include_str!("../templates/data_job.html")),
    ("problems.html", include_str!("../templates/problems.html")),
    ("compare.html", include_str!("../templates/compare.html")),
    ("cities.html", include_str!("../templates/cities.html")),
];

pub struct Views {
    env: Environment<'static>,
    /// Compressed parts of frames, by their text ([`Views::frame`]).
    frames: Mutex<HashMap<String, Arc<Content>>>,
    /// Frames rendered, by what they show (the page's frame as JSON: who, the city, the
    /// title, the message; never a token): an account reading page after page gets the
    /// same few frames.
    rendered: Mutex<HashMap<String, Arc<str>>>,
}

fn environment() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    // Every template is HTML: escape everything that is not marked safe.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(|e| format!("template {name}: {e}"))?;
    }
    Ok(env)
}

impl Views {
    pub fn new() -> Result<Self, String> {
        Ok(Self { env: environment()?, frames: Mutex::default(), rendered: Mutex::default() })
    }

    pub fn render<C: Serialize>(&self, name: &str, ctx: C) -> Result<Html<String>, WebError> {
        let t = self.env.get_template(name)?;
        Ok(Html(t.render(ctx)?))
    }

    /// Renders only the `content` block of a page template (what the page shows inside
    /// the frame), to be cached and framed per request by [`Views::frame`].
    pub fn render_content<C: Serialize>(&self, name: &str, ctx: C) -> Result<Content, WebError> {
        let t = self.env.get_template(name)?;
        // Evaluated once (into nothing) for its state, then only the block rendered;
        // `content_only` tells `base.html` not to call the block in the first pass (the
        // page's content would be evaluated twice, once for nothing).
        let ctx = minijinja::context! { content_only => true, ..minijinja::Value::from_serialize(ctx) };
        let mut captured = t.render_captured_to(ctx, std::io::sink())?;
        Ok(Content::new(captured.with_state_mut(|state| state.render_block("content"))?))
    }

    /// The frame (`base.html`) around content rendered before, with the session's CSRF
    /// token in its slots: the frame is small and rendered per request, the content is
    /// copied once, into its place. `page` carries [`CSRF_SLOT`] for the token, which
    /// goes in here; compressed, the frame's parts that are the same for every account
    /// are kept (`frame_part`), and the token never goes through the compressor.
    pub fn frame(&self, page: &Page<'_, NoBody>, content: &Content, csrf: &str, gzip: bool) -> Result<Response, WebError> {
        let frame = self.rendered_frame(page)?;
        let (head, tail) = frame.split_once(CONTENT_SLOT).ok_or_else(|| WebError::Internal("base.html has no content slot".to_owned()))?;
        let resp = if gzip && csrf.len() == TOKEN_LEN {
            // Nothing is compressed here. The head up to its style sheet differs only
            // by page title, the tail hardly ever: both are kept compressed. The rest
            // of the head (the navigation, who is signed in, a message: a kilobyte or
            // two) and the token go in stored blocks, where the parts left room.
            let (styled, own) = head.find(STYLE_END).map_or(("", head), |i| head.split_at(i + STYLE_END.len()));
            let (styled, tail, token) = (self.frame_part(styled), self.frame_part(tail), Deflated::stored(csrf.as_bytes()));
            let own: Vec<Deflated> = own.split(CSRF_SLOT).map(|piece| Deflated::stored(piece.as_bytes())).collect();
            let mut pieces = Vec::with_capacity(2 * (styled.deflated.len() + own.len() + content.deflated.len() + tail.deflated.len()));
            for part in [&styled.deflated, &own, &content.deflated, &tail.deflated] {
                for (i, piece) in part.iter().enumerate() {
                    if i > 0 {
                        pieces.push(&token);
                    }
                    pieces.push(piece);
                }
            }
            gzip::html_response(gzip::join(pieces), true)
        } else {
            let mut out = String::with_capacity(frame.len() + content.html.len());
            for part in [head, &content.html, tail] {
                for (i, piece) in part.split(CSRF_SLOT).enumerate() {
                    if i > 0 {
                        out.push_str(csrf);
                    }
                    out.push_str(piece);
                }
            }
            gzip::html_response(out, false)
        };
        Ok(resp)
    }

    /// `base.html` around [`CONTENT_SLOT`], rendered once for as long as it is asked for.
    fn rendered_frame(&self, page: &Page<'_, NoBody>) -> Result<Arc<str>, WebError> {
        /// Frames kept: an account's pages (a kilobyte or two each).
        const MAX_RENDERED: usize = 4096;
        let render = || -> Result<Arc<str>, WebError> {
            let ctx = minijinja::context! { content => minijinja::Value::from_safe_string(CONTENT_SLOT.to_owned()), ..minijinja::Value::from_serialize(page) };
            Ok(self.render("base.html", ctx)?.0.into())
        };
        if page.csrf != CSRF_SLOT {
            // Kept only when it holds no token.
            return render();
        }
        let key = serde_json::to_string(page).map_err(|e| WebError::Internal(e.to_string()))?;
        if let Some(f) = self.rendered.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key) {
            return Ok(f.clone());
        }
        let frame = render()?;
        let mut rendered = self.rendered.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if rendered.len() >= MAX_RENDERED {
            rendered.clear();
        }
        rendered.insert(key, frame.clone());
        Ok(frame)
    }

    /// A part of a frame, compressed once for as long as it is asked for.
    fn frame_part(&self, text: &str) -> Arc<Content> {
        /// Parts kept: the head of each page title, the tails (a few kilobytes each).
        const MAX_FRAMES: usize = 512;
        let mut frames = self.frames.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = frames.get(text) {
            return c.clone();
        }
        if frames.len() >= MAX_FRAMES {
            frames.clear();
        }
        let c = Arc::new(Content::at_level(text.to_owned(), FRAME_LEVEL));
        frames.insert(text.to_owned(), c.clone());
        c
    }
}

/// A page's content rendered once (with [`CSRF_SLOT`] for the token), and the same
/// compressed: the parts between the slots, each a gzip piece, for [`Views::frame`].
pub struct Content {
    html: String,
    deflated: Vec<Deflated>,
}

impl Content {
    /// A page's content, compressed again at each version ([`gzip::CACHED`]).
    pub fn new(html: String) -> Self {
        Self::at_level(html, gzip::CACHED)
    }

    fn at_level(html: String, level: u32) -> Self {
        let parts: Vec<&[u8]> = html.split(CSRF_SLOT).map(str::as_bytes).collect();
        let deflated = gzip::deflate_around_gaps(&parts, level, TOKEN_LEN);
        Self { html, deflated }
    }
}

/// Level for the parts of the frame (the style sheet, the end of the page): compressed
/// once, served with every page.
const FRAME_LEVEL: u32 = 9;

/// Where the part of the frame that is the same for every account ends.
const STYLE_END: &str = "</style>";

/// The length of a CSRF token (32 random bytes in hex): what [`Content`]'s compressed
/// parts leave room for.
const TOKEN_LEN: usize = 64;

/// Where the frame's content goes (letters and digits only, like [`CSRF_SLOT`]).
const CONTENT_SLOT: &str = "contentslot3b8e51f0a9c2";

/// The body of a page that is only its frame.
#[derive(Serialize)]
pub struct NoBody {}

/// Stands for the session's CSRF token in content rendered once for everyone; replaced
/// by the token of each request. Letters and digits only, so escaping leaves it alone.
pub const CSRF_SLOT: &str = "csrfslot7d1f0c2b9e4a";

/// The frame of every signed-in page (navigation, who, the CSRF token of its forms, a
/// flash message) around the page's own data.
#[derive(Serialize)]
pub struct Page<'a, T: Serialize> {
    pub user: Option<UserView>,
    pub csrf: &'a str,
    pub city: &'a str,
    pub nav: &'a str,
    pub title: &'a str,
    pub flash: Option<&'a str>,
    pub flash_kind: &'a str,
    #[serde(flatten)]
    pub body: &'a T,
}

/// The signed-in user as templates see it.
#[derive(Serialize)]
// What the frame shows or hides for this account, each a yes or no.
#[allow(clippy::struct_excessive_bools)]
pub struct UserView {
    pub display_name: String,
    pub role_label: &'static str,
    pub unit: Option<String>,
    pub unit_id: Option<UnitId>,
    pub sees_everything: bool,
    /// May switch between cities (evaluators, the province office).
    pub spans_cities: bool,
    pub reviews: bool,
    pub administers: bool,
}

/// A page for an error, rendered without the application state.
pub fn error_page(heading: &str, message: &str) -> Html<String> {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        heading: &'a str,
        message: &'a str,
    }
    static ENV: std::sync::OnceLock<Option<Environment<'static>>> = std::sync::OnceLock::new();
    let env = ENV.get_or_init(|| environment().ok());
    let body = ErrorBody { heading, message };
    let page = Page { user: None, csrf: "", city: "", nav: "", title: heading, flash: None, flash_kind: "", body: &body };
    let rendered = env.as_ref().and_then(|env| env.get_template("error.html").ok()?.render(&page).ok());
    Html(rendered.unwrap_or_else(|| "<!doctype html><title>error</title><p>error</p>".to_owned()))
}

/// A stored value as people read it. Every value shown on a page goes through here, so
/// that how money and counts are shown is decided in one place.
/// A stored value as people read it, with the unit the rubric gives it: `86,000,000 元`,
/// `8,600 万元`, `1,208 户`, `97.06%`, 是/否 (for display; forms use [`form_text`]).
pub fn value(input: &Input, value_json: &str) -> String {
    use creditcity_rubric::Value;
    let shown = match serde_json::from_str::<serde_json::Value>(value_json) {
        Ok(serde_json::Value::Bool(b)) => Some(Value::Bool(b)),
        Ok(serde_json::Value::Number(n)) => n.as_f64().map(Value::Number),
        Ok(serde_json::Value::Array(items)) => items.iter().map(serde_json::Value::as_f64).collect::<Option<Vec<f64>>>().map(Value::List),
        _ => None,
    };
    shown.map_or_else(|| creditcity_app::values::display_json(value_json), |v| creditcity_rubric::format::input_value(input, &v))
}

/// A stored value as a form field shows it, so that it can be submitted again unchanged:
/// `0.018` for a ratio, `86000000` for an amount, 是/否.
pub fn form_text(_input: &Input, value_json: &str) -> String {
    creditcity_app::values::display_json(value_json)
}

/// A stored instant (UTC) in Beijing time: `2026-11-30 06:40`.
pub fn when(stored: &str) -> String {
    creditcity_app::beijing_time(stored)
}

/// Where a value came from, with the unit that set it: never `None`, never an empty `·`.
pub fn source(unit: Option<&str>, kind: SourceKind, reference: &str) -> String {
    let p = creditcity_app::provenance(kind, reference);
    match unit.filter(|u| !u.trim().is_empty()) {
        Some(u) => format!("{u} · {p}"),
        None => p,
    }
}

pub fn size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1_048_576.0)
    } else if bytes >= 1024 {
        format!("{:.0} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// Input labels grouped by what they share: "医药卫生和计划生育领域:认定红黑名单并归集"
/// and nine more like it become one group "认定红黑名单并归集" of ten fields. A label
/// without a `:` is a group of its own.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct LabelGroup {
    pub heading: String,
    pub items: Vec<String>,
}

pub fn group_labels<'a>(labels: impl IntoIterator<Item = &'a str>) -> Vec<LabelGroup> {
    let split: Vec<(Option<&str>, &str)> = labels.into_iter().map(|l| l.split_once(':').map_or((None, l), |(h, t)| (Some(h), t))).collect();
    // Group by the shared tail (the field's own part) when that makes fewer groups than
    // grouping by the head (the area), else by the head.
    let count = |by_tail: bool| {
        let mut keys: Vec<&str> = split.iter().map(|(h, t)| if by_tail { *t } else { h.unwrap_or(t) }).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.len()
    };
    let by_tail = count(true) < count(false);
    let mut groups: Vec<LabelGroup> = Vec::new();
    for (head, tail) in split {
        let (heading, item) = match head {
            None => (tail, String::new()),
            Some(h) if by_tail => (tail, h.to_owned()),
            Some(h) => (h, tail.to_owned()),
        };
        match groups.iter_mut().find(|g| g.heading == heading) {
            Some(g) if !item.is_empty() => g.items.push(item),
            Some(_) => {}
            None => groups.push(LabelGroup { heading: heading.to_owned(), items: if item.is_empty() { Vec::new() } else { vec![item] } }),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_that_share_a_field_are_one_group() {
        let g = group_labels(["医药卫生和计划生育领域:认定红黑名单并归集", "社会保障领域:认定红黑名单并归集", "劳动用工领域:认定红黑名单并归集"]);
        assert_eq!(g, vec![LabelGroup { heading: "认定红黑名单并归集".into(), items: vec!["医药卫生和计划生育领域".into(), "社会保障领域".into(), "劳动用工领域".into()] }]);
        let g = group_labels(["劳动用工领域:建立信用记录", "劳动用工领域:认定红黑名单并归集", "执结案件数"]);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].heading, "劳动用工领域");
        assert_eq!(g[0].items, vec!["建立信用记录".to_owned(), "认定红黑名单并归集".to_owned()]);
        assert_eq!(g[1], LabelGroup { heading: "执结案件数".into(), items: vec![] });
    }

    #[test]
    fn a_source_without_a_reference_shows_no_none() {
        assert_eq!(source(None, SourceKind::Note, ""), "说明");
        assert_eq!(source(Some("市商务局"), SourceKind::Document, "青银发〔2019〕12号"), "市商务局 · 文件 · 青银发〔2019〕12号");
    }
}
