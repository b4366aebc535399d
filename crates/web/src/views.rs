//! Templates (embedded, auto-escaped) and the user shown in every page.

use axum::response::Html;
use minijinja::{Environment, Value};
use serde::Serialize;

use crate::error::WebError;

const TEMPLATES: [(&str, &str); 12] = [
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
];

pub struct Views {
    env: Environment<'static>,
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
        Ok(Self { env: environment()? })
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<Html<String>, WebError> {
        let t = self.env.get_template(name).map_err(|e| WebError::Internal(e.to_string()))?;
        t.render(ctx).map(Html).map_err(|e| WebError::Internal(format!("{name}: {e:#}")))
    }
}

/// The signed-in user as templates see it.
#[derive(Serialize)]
pub struct UserView {
    pub display_name: String,
    pub role_label: &'static str,
    pub unit: Option<String>,
    pub unit_id: Option<i64>,
    pub sees_everything: bool,
    pub reviews: bool,
    pub administers: bool,
}

/// A page for an error, rendered without the application state.
pub fn error_page(heading: &str, message: &str) -> Html<String> {
    static ENV: std::sync::OnceLock<Option<Environment<'static>>> = std::sync::OnceLock::new();
    let env = ENV.get_or_init(|| environment().ok());
    let rendered = env.as_ref().and_then(|env| {
        let t = env.get_template("error.html").ok()?;
        t.render(minijinja::context! {
            title => heading, heading => heading, message => message, user => Value::from(()),
            flash => Value::from(()), flash_kind => "", csrf => "", city => "", nav => "",
        })
        .ok()
    });
    Html(rendered.unwrap_or_else(|| "<!doctype html><title>error</title><p>error</p>".to_owned()))
}
