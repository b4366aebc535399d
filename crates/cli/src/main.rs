//! `creditcity`: score a city against the rubric, run its evaluation workspace, and
//! inspect rubric files.
//!
//! Data goes to stdout, diagnostics to stderr. Exit codes:
//! 0 success · 1 invalid input (a value, a plan, a unit, a file over the limit…) ·
//! 2 invalid command line · 3 invalid rubric file · 4 a file could not be read ·
//! 5 the store failed (database or evidence files).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use creditcity::render;
use creditcity::workspace::{self as ws, Context, SetArgs};
use creditcity_app::Actor;
use creditcity_rubric::{InputKind, Rubric, format, score};
use creditcity_store::{AuditFilter, Location};

#[derive(Parser)]
#[command(name = "creditcity", version, about = "社会信用体系建设示范城市评估 — score a city against the rubric")]
struct Cli {
    /// Rubric file to use instead of the embedded 2019 edition.
    #[arg(long, global = true, value_name = "FILE")]
    rubric: Option<PathBuf>,
    /// The workspace store (SQLite file; evidence files go beside it in NAME.evidence/).
    #[arg(long, global = true, env = "CREDITCITY_STORE", default_value = "creditcity.db", value_name = "FILE")]
    store: PathBuf,
    /// Which assessment of the store: its id or city name (needed when there are several).
    #[arg(long, global = true, env = "CREDITCITY_ASSESSMENT", value_name = "ID|CITY")]
    assessment: Option<String>,
    /// Who is acting, recorded on every change.
    #[arg(long, global = true, env = "CREDITCITY_USER", value_name = "NAME")]
    user: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score an assessment file, or the store's assessment: every rule, its reason,
    /// the gates and the totals.
    Score {
        /// The city's assessment file (TOML); without it, the store's current values.
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Score only the values an evaluator has accepted (the confirmed score).
        #[arg(long)]
        confirmed: bool,
    },
    /// Inspect rubric files.
    #[command(subcommand)]
    Rubric(RubricCommand),
    /// Create the store (if needed) and a city's assessment in it.
    Init {
        #[arg(long)]
        city: String,
        #[arg(long, default_value = "2018年12月15日至2019年3月15日")]
        period: String,
    },
    /// The plan (任务分解): import units and tasks, or list the tasks.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Set an input's value (its previous value stays in the history), or every
    /// value of an assessment file with --file.
    Set {
        key: Option<String>,
        value: Option<String>,
        /// Load every value of an assessment file instead.
        #[arg(long, conflicts_with_all = ["key", "value"])]
        file: Option<PathBuf>,
        /// The responsible unit that gave the value.
        #[arg(long)]
        unit: Option<String>,
        /// Where it comes from: document, platform or note.
        #[arg(long)]
        source: Option<String>,
        /// The document's name or number, the platform's screen…
        #[arg(long = "ref")]
        source_ref: Option<String>,
        /// A note; the justification of a judged (酌情) score.
        #[arg(long)]
        note: Option<String>,
        /// Evidence ids that support the value.
        #[arg(long)]
        evidence: Vec<i64>,
    },
    /// Attach a file as evidence (佐证材料) for a rule's checklist item.
    Attach {
        file: PathBuf,
        #[arg(long)]
        rule: String,
        /// The checklist item, numbered as `creditcity rubric show RULE` lists them.
        #[arg(long)]
        item: Option<i64>,
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        unit: Option<String>,
    },
    /// Accept or return an input's current value, an evidence item or a task.
    Review {
        /// input, evidence or task
        target: String,
        /// The input key, the evidence id or the task code.
        id: String,
        /// accept or return
        decision: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Move a task: start, or submit for review.
    Task { action: String, code: String },
    /// Progress by unit and by section: tasks, overdue, inputs missing, evidence, points at stake.
    Status {
        /// The day to count overdue tasks from (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<String>,
    },
    /// Every value an input has had: who, when, from what.
    History { key: String },
    /// The audit log of the assessment, oldest first.
    Audit {
        #[arg(long)]
        entity: Option<String>,
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        actor: Option<String>,
    },
    /// The current values as an assessment file that `score FILE` accepts.
    ExportInputs {
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// A consistent copy of the store and its evidence files, safe while in use.
    Backup { dir: PathBuf },
    /// Restore a backup into --store (which must not exist yet).
    Restore { dir: PathBuf },
    /// Check the store: database integrity, current values, evidence files against their hashes.
    Check,
    /// The self-assessment report (自评报告): a printable HTML page, and a PDF with --pdf.
    Report {
        #[arg(long, short, default_value = "自评报告.html")]
        out: PathBuf,
        /// Also print it to this PDF (needs Chromium and a CJK font: chromium, fonts-noto-cjk).
        #[arg(long)]
        pdf: Option<PathBuf>,
    },
    /// Export an Excel workbook: a unit's template (or the whole city's).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Import a filled Excel template; every problem is listed by cell and nothing is
    /// applied when anything is wrong.
    Import {
        file: PathBuf,
        /// The unit the template belongs to: only its inputs are accepted.
        #[arg(long)]
        unit: Option<String>,
    },
    /// The gap plan: every rule below its maximum and every gate not passed, ranked by the
    /// points that can be recovered, with what recovers them, the units and deadlines.
    Gaps {
        /// Only the rules of this unit's tasks.
        #[arg(long)]
        unit: Option<String>,
        /// What if KEY had VALUE? (repeatable; the store is not changed)
        #[arg(long = "what-if", value_name = "KEY=VALUE")]
        what_if: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Serve the web application (default http://127.0.0.1:8080).
    Serve {
        /// Address to listen on (overrides the config file and CREDITCITY_LISTEN).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Load the example city mid-campaign and one account per role into an empty store.
        #[arg(long)]
        demo: bool,
        /// A configuration file (see --print-config).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print the default configuration, commented, and exit.
        #[arg(long)]
        print_config: bool,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The evidence package (迎检材料): a zip with a folder per section and rule and an index.
    Evidence {
        #[arg(long, short)]
        out: PathBuf,
    },
    /// The score sheet (.xlsx): every rule, subtotals, gates and totals, for printing.
    Scores {
        #[arg(long, short)]
        out: PathBuf,
        /// Accepted values only.
        #[arg(long)]
        confirmed: bool,
    },
    /// The Excel template of a unit (--unit) or of the whole city.
    Template {
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, short)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum PlanCommand {
    /// Import a plan file (units and tasks); all or nothing.
    Import { file: PathBuf },
    /// List the tasks with their rules, units, deadlines and states.
    Show,
}

#[derive(Subcommand)]
enum RubricCommand {
    /// Validate a rubric file and report every problem with its line and key.
    Check { file: PathBuf },
    /// List the rules, or show one rule (or gate) with its text, inputs and evidence.
    Show { id: Option<String> },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

use ws::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(f) => {
            eprintln!("error: {}", f.message);
            if let Some(h) = f.hint {
                eprintln!("hint: {h}");
            }
            ExitCode::from(f.code)
        }
    }
}

fn context(cli: &Cli) -> Result<Context, Failure> {
    let user = cli.user.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "cli".to_owned());
    Ok(Context {
        location: Location::at(&cli.store),
        assessment: cli.assessment.clone(),
        actor: Actor(user),
        rubric: load_rubric(cli.rubric.as_deref())?,
    })
}

fn run(cli: &Cli) -> Result<String, Failure> {
    match &cli.command {
        Command::Score { file: None, format, confirmed } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(async {
                let w = ctx.open().await?;
                let scores = w.scores().await.map_err(Failure::from)?;
                let (a, card) = if *confirmed { scores.confirmed } else { scores.working };
                let report = render::report(w.rubric(), &a, &card);
                let out = match format {
                    Format::Json => format!("{}\n", render::json(&report)),
                    Format::Text => render::text(w.rubric(), &report),
                };
                w.close().await;
                Ok(out)
            })
        }
        Command::Init { city, period } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::init(&ctx, city, period))
        }
        Command::Plan(PlanCommand::Import { file }) => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::plan_import(&ctx, file))
        }
        Command::Plan(PlanCommand::Show) => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::plan_show(&ctx))
        }
        Command::Set { key, value, file, unit, source, source_ref, note, evidence } => {
            let ctx = context(cli)?;
            let args = SetArgs {
                key: key.clone(),
                value: value.clone(),
                file: file.clone(),
                unit: unit.clone(),
                source: source.clone(),
                source_ref: source_ref.clone(),
                note: note.clone(),
                evidence: evidence.clone(),
            };
            Context::runtime()?.block_on(ws::set(&ctx, args))
        }
        Command::Attach { file, rule, item, task, unit } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::attach(&ctx, file, rule, *item, task.as_deref(), unit.as_deref()))
        }
        Command::Review { target, id, decision, comment } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::review(&ctx, target, id, decision, comment))
        }
        Command::Task { action, code } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::task(&ctx, action, code))
        }
        Command::Status { as_of } => {
            let ctx = context(cli)?;
            let day = as_of.clone().unwrap_or_else(creditcity_app::today);
            Context::runtime()?.block_on(ws::status(&ctx, &day))
        }
        Command::History { key } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::history(&ctx, key))
        }
        Command::Audit { entity, id, actor } => {
            let ctx = context(cli)?;
            let filter = AuditFilter { assessment_id: None, entity: entity.clone(), entity_id: id.clone(), actor: actor.clone() };
            Context::runtime()?.block_on(ws::audit(&ctx, filter))
        }
        Command::ExportInputs { out } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::export_inputs(&ctx, out.as_deref()))
        }
        Command::Backup { dir } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::backup(&ctx, dir))
        }
        Command::Serve { listen, demo, config, print_config } => {
            if *print_config {
                return Ok(creditcity_web::config::DEFAULT_FILE.to_owned());
            }
            serve(cli, *listen, *demo, config.as_deref())
        }
        Command::Report { out, pdf } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::report(&ctx, out, pdf.as_deref()))
        }
        Command::Export(ExportCommand::Evidence { out }) => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::export_evidence(&ctx, out))
        }
        Command::Export(ExportCommand::Scores { out, confirmed }) => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::export_scores(&ctx, out, *confirmed))
        }
        Command::Export(ExportCommand::Template { unit, out }) => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::export_template(&ctx, unit.as_deref(), out))
        }
        Command::Import { file, unit } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::import_template(&ctx, file, unit.as_deref()))
        }
        Command::Gaps { unit, what_if, format } => {
            let ctx = context(cli)?;
            let mut pairs = Vec::new();
            for w in what_if {
                let (k, v) = w.split_once('=').ok_or_else(|| Failure { code: 2, message: format!("--what-if {w}: expected KEY=VALUE"), hint: None })?;
                pairs.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            Context::runtime()?.block_on(ws::gaps(&ctx, unit.as_deref(), &pairs, matches!(format, Format::Json)))
        }
        Command::Check => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::check(&ctx))
        }
        Command::Restore { dir } => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::restore(&ctx, dir))
        }
        Command::Score { file: Some(file), format, .. } => {
            let rubric = load_rubric(cli.rubric.as_deref())?;
            let text = read(file)?;
            let assessment = rubric.parse_assessment(&text).map_err(|errors| Failure {
                code: 1,
                message: format!(
                    "{} 有 {} 处输入错误,未评分:\n{}",
                    file.display(),
                    errors.0.len(),
                    errors.0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n")
                ),
                hint: Some("键与单位见 `creditcity rubric show 规则编号`;比率以小数填写(1.8% 写作 0.018)".to_owned()),
            })?;
            let card = score(&rubric, &assessment);
            let report = render::report(&rubric, &assessment, &card);
            Ok(match format {
                Format::Json => format!("{}\n", render::json(&report)),
                Format::Text => render::text(&rubric, &report),
            })
        }
        Command::Rubric(RubricCommand::Check { file }) => {
            let text = read(file)?;
            let rubric = Rubric::parse(&text, &file.display().to_string()).map_err(rubric_failure)?;
            Ok(format!(
                "{}: 细则有效 — {} 版(数据版本 {}),{} 个部分,{} 条评分规则,{} 项输入,{} 项基础性硬指标\n",
                file.display(),
                rubric.edition,
                rubric.version,
                rubric.sections.len(),
                rubric.rules.len(),
                rubric.inputs.len(),
                rubric.gates.len()
            ))
        }
        Command::Rubric(RubricCommand::Show { id }) => {
            let rubric = load_rubric(cli.rubric.as_deref())?;
            match id {
                None => Ok(list_rules(&rubric)),
                Some(id) => show(&rubric, id),
            }
        }
    }
}

fn serve(cli: &Cli, listen: Option<std::net::SocketAddr>, demo: bool, file: Option<&Path>) -> Result<String, Failure> {
    let fail = |code: u8, message: String| Failure { code, message, hint: None };
    let mut config = creditcity_web::Config::load(file).map_err(|m| fail(1, format!("config: {m}")))?;
    if let Some(l) = listen {
        config.listen = l;
    }
    // --store and --assessment given on the command line win over the file.
    if cli.store != Path::new("creditcity.db") || config.store == Path::new("creditcity.db") {
        config.store.clone_from(&cli.store);
    }
    if cli.assessment.is_some() {
        config.assessment.clone_from(&cli.assessment);
    }
    config.demo = demo;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    if config.log_json {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let rubric = load_rubric(cli.rubric.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(5, format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let location = Location::at(&config.store);
        if config.demo && creditcity_web::demo::load(&location, &rubric).await.map_err(Failure::from)? {
            tracing::info!(store = %location.db.display(), "demo loaded: accounts xinyongban, renhang, shangwu, zhuanjia, guest; password {}", creditcity_web::demo::PASSWORD);
        }
        let ws = creditcity_app::Workspace::open(&location, rubric, config.assessment.as_deref()).await.map_err(|e| {
            let mut f = Failure::from(e);
            f.hint = Some("create an assessment with `creditcity init --city 城市名`, or try `creditcity serve --demo`".to_owned());
            f
        })?;
        let state = creditcity_web::state(ws, &config).map_err(|m| fail(5, m))?;
        let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|e| fail(1, format!("cannot listen on {}: {e}", config.listen)))?;
        let addr = listener.local_addr().map_err(|e| fail(5, e.to_string()))?;
        eprintln!("creditcity: serving {} on http://{addr}/ (Ctrl-C to stop)", config.store.display());
        if config.demo {
            eprintln!("demo accounts (password {}): xinyongban 信用办 · renhang 人行 · shangwu 商务局 · zhuanjia 评估专家 · guest 只读", creditcity_web::demo::PASSWORD);
        }
        creditcity_web::serve(state, listener).await.map_err(|e| fail(5, format!("server: {e}")))?;
        Ok(String::new())
    })
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure {
        code: 4,
        message: format!("cannot read {}: {e}", path.display()),
        hint: None,
    })
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(rubric_failure)`
fn rubric_failure(e: creditcity_rubric::RubricError) -> Failure {
    Failure {
        code: 3,
        message: format!("invalid rubric, {} problem(s):\n{e}", e.issues.len()),
        hint: Some("the format is described at the top of rubrics/2019.toml".to_owned()),
    }
}

fn load_rubric(path: Option<&Path>) -> Result<Rubric, Failure> {
    match path {
        Some(p) => Rubric::parse(&read(p)?, &p.display().to_string()).map_err(rubric_failure),
        None => Rubric::embedded_2019().map_err(rubric_failure),
    }
}

fn list_rules(rubric: &Rubric) -> String {
    let mut out = format!("{} — {} 条评分规则\n", rubric.title, rubric.rules.len());
    for section in &rubric.sections {
        out.push_str(&format!("\n[{}] {}({} 分)\n", section.id, section.title, format::plain(section.max)));
        for rule in &rubric.rules[section.rules.clone()] {
            let hi = rule.hi.map_or_else(String::new, |h| format!("  硬指标 {h}"));
            out.push_str(&format!(
                "  {}{}{}{hi}\n",
                creditcity::text::pad(&rule.id, 7),
                creditcity::text::pad(&format!("{} 分", format::plain(rule.max)), 8),
                rule.title
            ));
        }
    }
    out.push_str("\n基础性硬指标(一票否决)\n");
    for gate in &rubric.gates {
        out.push_str(&format!("  {}{}\n", creditcity::text::pad(&gate.id, 7), gate.title));
    }
    out
}

fn describe_input(rubric: &Rubric, id: creditcity_rubric::InputId) -> String {
    let input = rubric.input(id);
    let mut constraints = Vec::new();
    match input.kind {
        InputKind::Bool => constraints.push("true / false".to_owned()),
        InputKind::Count => constraints.push("非负整数".to_owned()),
        InputKind::Ratio => constraints.push("0–1 的小数".to_owned()),
        InputKind::Amount => constraints.push("元,≥ 0".to_owned()),
        InputKind::Number => constraints.push("数字".to_owned()),
        InputKind::Judged { max } => constraints.push(format!("酌情计分 0–{}", format::plain(max))),
        InputKind::List { len, .. } => {
            constraints.push(len.map_or_else(|| "数组".to_owned(), |n| format!("{n} 项的数组")));
        }
        InputKind::Table => constraints.push("表:名称 = 数量".to_owned()),
    }
    if input.positive {
        constraints.push("> 0".to_owned());
    }
    if let Some(min) = input.min {
        constraints.push(format!("≥ {}", format::plain(min)));
    }
    if let Some(max) = input.max {
        constraints.push(format!("≤ {}", format::plain(max)));
    }
    if !input.at_most.is_empty() {
        let wholes: Vec<&str> = input.at_most.iter().map(|w| rubric.input(*w).key.as_str()).collect();
        constraints.push(format!("≤ {}", wholes.join(" + ")));
    }
    if let Some(supplier) = input.supplier() {
        constraints.push(format!("由{supplier}提供"));
    }
    if input.is_fixed() {
        constraints.push("历史数据,本期不可改变".to_owned());
    }
    let unit = input.unit.as_deref().map_or_else(String::new, |u| format!(" [{u}]"));
    format!("  {}  {}{unit}  ({})\n", input.key, input.label, constraints.join(","))
}

fn show(rubric: &Rubric, id: &str) -> Result<String, Failure> {
    if let Some(gate) = rubric.gates.iter().find(|g| g.id == id) {
        let mut out = format!("{} 基础性硬指标 {}:{}\n\n输入:\n", gate.id, gate.hi, gate.title);
        for input in &gate.inputs {
            out.push_str(&describe_input(rubric, *input));
        }
        return Ok(out);
    }
    let Some(rule) = rubric.rule(id) else {
        let ids: Vec<&str> = rubric.rules.iter().map(|r| r.id.as_str()).collect();
        return Err(Failure {
            code: 1,
            message: format!("no rule or gate `{id}` in the {} rubric", rubric.edition),
            hint: Some(format!("rule ids: {}; gates: G1–G{}", ids.join(" "), rubric.gates.len())),
        });
    };
    let section = rubric.section_of(rule);
    let hi = rule.hi.map_or_else(String::new, |h| format!(" · 硬指标 {h}"));
    let source = rule.source().map_or_else(String::new, |s| format!("\n评分/数据来源:{s}"));
    let mut out = format!(
        "{} {}({} 分{hi})\n所属:{} {}{source}\n\n评分标准:\n  {}\n\n评分细则:\n  {}\n\n输入:\n",
        rule.id,
        rule.title,
        format::plain(rule.max),
        section.id,
        section.title,
        rule.standard,
        rule.detail_text()
    );
    for input in &rule.inputs {
        out.push_str(&describe_input(rubric, *input));
    }
    out.push_str("\n佐证材料:\n");
    for (i, item) in rule.evidence.iter().enumerate() {
        out.push_str(&format!("  [{}] {item}\n", i + 1));
    }
    Ok(out)
}
