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

/// A server renders and compresses pages on every core at once; mimalloc's per-thread
/// heaps spend less time in the allocator than glibc's arenas did under that load
/// (`crates/web/benches/province.rs`, the 200 clients of part c).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "creditcity", version, about = "社会信用体系建设示范城市评估 — score a city against the rubric")]
struct Cli {
    /// Rubric file to use instead of the embedded 2019 edition.
    #[arg(long, global = true, value_name = "FILE")]
    rubric: Option<PathBuf>,
    /// The workspace store: a SQLite file (evidence files go beside it in NAME.evidence/),
    /// or a PostgreSQL database `postgres://user:password@host/db` (needs --files).
    #[arg(long, global = true, env = "CREDITCITY_STORE", hide_env_values = true, default_value = "creditcity.db", value_name = "FILE|URL")]
    store: String,
    /// The directory of evidence and dataset files: required with PostgreSQL; with a
    /// SQLite file, NAME.evidence/ beside it unless given.
    #[arg(long, global = true, env = "CREDITCITY_FILES", value_name = "DIR")]
    files: Option<PathBuf>,
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
    /// Compare every city of the store: working and confirmed totals, gates, each
    /// section, progress (tasks, overdue) and rank. Cities on different rubric editions
    /// (or periods) are ranked apart, never together.
    Compare {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write the comparison as an Excel workbook (.xlsx) instead.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// The rubric file of another edition, for the cities assessed on it (repeatable).
        #[arg(long, value_name = "FILE")]
        edition: Vec<PathBuf>,
        /// The day to count overdue tasks from (default: today, Beijing time).
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
    /// Copy the whole store (--store) into another, e.g. a PostgreSQL database, then
    /// check that every assessment scores the same on both.
    Migrate {
        /// The new store: `postgres://user:password@host/db` (created if absent, must
        /// be empty) or a SQLite file that does not exist yet.
        #[arg(long, value_name = "URL|FILE")]
        to: String,
        /// The new store's directory of evidence and dataset files (required for
        /// PostgreSQL).
        #[arg(long, value_name = "DIR")]
        to_files: Option<PathBuf>,
    },
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
    /// The city's own records (datasets): import, status, problems, and generated
    /// example datasets.
    #[command(subcommand)]
    Data(DataCommand),
    /// The city's settings: its administrative division code (行政区划代码) and its
    /// province. `creditcity city --list` lists every city of the store.
    City {
        /// 4 or 6 digits (GB/T 2260), e.g. 5108: records registered elsewhere are refused.
        #[arg(long)]
        division: Option<String>,
        /// Places the city in this province (created if new): its province office's
        /// accounts then see it.
        #[arg(long)]
        province: Option<String>,
        /// List every city of the store with its province.
        #[arg(long, conflicts_with_all = ["division", "province"])]
        list: bool,
    },
    /// API tokens of machine accounts (the city's platform pushing datasets nightly):
    /// `token add NAME` prints a new token once; it can import datasets and nothing else.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Accounts of the web application: create one (the first administrator too), or
    /// change a password. The password is read from a prompt, or from standard input
    /// when that is not a terminal; never from the command line.
    #[command(subcommand)]
    User(UserCommand),
    /// Serve the web application (default http://127.0.0.1:8080).
    Serve {
        /// Address to listen on (overrides the config file and CREDITCITY_LISTEN).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Load the example city mid-campaign and one account per role into an empty store.
        #[arg(long)]
        demo: bool,
        /// With --demo: a province of twelve cities at different stages of their
        /// campaigns, with a province office's account (see the accounts printed at start).
        #[arg(long, requires = "demo")]
        province: bool,
        /// A configuration file (see --print-config).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print the default configuration, commented, and exit.
        #[arg(long)]
        print_config: bool,
    },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Import a dataset: register (市场主体名录), licences (行政许可), penalties (行政处罚),
    /// lists (红黑名单), commitments (信用承诺), approval_items (行政审批事项目录) or cases
    /// (联合奖惩案例); CSV (UTF-8 or GB18030/GBK) or .xlsx. Replaces the previous import of
    /// that kind and sets the inputs the records decide, all or nothing.
    Import { kind: String, file: PathBuf },
    /// The datasets imported, their problems by kind and unit, and the derived inputs.
    Status,
    /// The problems found in the records, by unit and kind; -o writes them as .xlsx with
    /// each problem's original row.
    Problems {
        #[arg(long)]
        unit: Option<String>,
        /// A problem kind (wrong_code, late_publication…).
        #[arg(long)]
        kind: Option<String>,
        /// One dataset (register, licences…).
        #[arg(long)]
        dataset: Option<String>,
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// At most this many on the terminal (all of them go into -o).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Write generated datasets of the example city 青川市 (division 5108) into DIR, with
    /// a known share of every kind of problem: `--size demo` (small) or `typical`
    /// (0.3 M entities, 0.5 M decisions).
    Generate {
        dir: PathBuf,
        #[arg(long, default_value = "demo")]
        size: String,
        #[arg(long, default_value_t = 2019)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    Add { name: String },
    List,
    Revoke { name: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account: `creditcity user add wang --role admin`. A credit office's,
    /// viewer's, unit member's or evaluator's account belongs to the city of the
    /// assessment (--assessment when the store has several); a province office's to
    /// its --province.
    Add {
        name: String,
        /// admin (信用办), unit (责任单位), evaluator (评估专家), viewer (只读) or
        /// province (省信用办: every city of its province, read-only).
        #[arg(long)]
        role: String,
        /// The unit of a unit member's account (its name as in the plan).
        #[arg(long)]
        unit: Option<String>,
        /// The province of a province office's account (created if new).
        #[arg(long)]
        province: Option<String>,
        /// The name shown in the application (default: the account name).
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// Set a new password for an account.
    Passwd { name: String },
    /// Assign the city of the assessment (--assessment) to an evaluator.
    Assign { name: String },
    /// List every account of the store, with the cities each may see.
    List,
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
            eprintln!("错误:{}", f.message);
            if let Some(h) = f.hint {
                eprintln!("提示:{h}");
            }
            ExitCode::from(f.code)
        }
    }
}

fn context(cli: &Cli) -> Result<Context, Failure> {
    let user = cli.user.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "cli".to_owned());
    Ok(Context {
        location: Location::parse(&cli.store, cli.files.as_deref()).map_err(|e| Failure { code: 2, message: e.to_string(), hint: None })?,
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
        Command::Compare { format, out, edition, as_of } => {
            let mut rubrics = vec![load_rubric(cli.rubric.as_deref())?];
            for file in edition {
                let r = load_rubric(Some(file))?;
                if rubrics.iter().any(|x| x.edition == r.edition) {
                    return Err(Failure { code: 3, message: format!("{}:{} 版细则已经给出,每个版本只能有一个细则文件", file.display(), r.edition), hint: None });
                }
                rubrics.push(r);
            }
            let day = match as_of {
                Some(d) if !is_date(d) => return Err(Failure { code: 2, message: format!("--as-of {d}:应为 YYYY-MM-DD"), hint: None }),
                Some(d) => d.clone(),
                None => creditcity_app::today(),
            };
            let location = Location::parse(&cli.store, cli.files.as_deref()).map_err(|e| Failure { code: 2, message: e.to_string(), hint: None })?;
            Context::runtime()?.block_on(ws::compare(&location, &rubrics, &day, out.as_deref(), matches!(format, Format::Json)))
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
        Command::Token(command) => {
            let ctx = context(cli)?;
            let (add, revoke) = match command {
                TokenCommand::Add { name } => (Some(name.as_str()), None),
                TokenCommand::Revoke { name } => (None, Some(name.as_str())),
                TokenCommand::List => (None, None),
            };
            Context::runtime()?.block_on(ws::tokens(&ctx, add, revoke))
        }
        Command::City { division, province, list } => {
            let ctx = context(cli)?;
            if *list {
                return Context::runtime()?.block_on(ws::city_list(&ctx));
            }
            Context::runtime()?.block_on(ws::city(&ctx, division.as_deref(), province.as_deref()))
        }
        Command::Data(DataCommand::Import { kind, file }) => {
            let ctx = context(cli)?;
            let started = std::time::Instant::now();
            let progress: Box<dyn FnMut(u64) + Send> = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                let estimate = estimate_rows(file);
                Box::new(move |rows| {
                    let secs = started.elapsed().as_secs_f64().max(0.001);
                    eprint!("\r{}", progress_line(rows, estimate, rows as f64 / secs));
                })
            } else {
                Box::new(|_| {})
            };
            let out = Context::runtime()?.block_on(ws::data_import(&ctx, kind, file, progress));
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                eprintln!();
            }
            out
        }
        Command::Data(DataCommand::Status) => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::data_status(&ctx))
        }
        Command::Data(DataCommand::Problems { unit, kind, dataset, out, limit }) => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::data_problems(&ctx, unit.as_deref(), kind.as_deref(), dataset.as_deref(), out.as_deref(), *limit))
        }
        Command::Data(DataCommand::Generate { dir, size, seed }) => ws::data_generate(dir, size, *seed),
        Command::User(UserCommand::Add { name, role, unit, province, display_name }) => {
            let ctx = context(cli)?;
            // What can be refused without the store is refused before the password is asked.
            ws::check_user_add(name, role, unit.as_deref(), province.as_deref())?;
            let password = ws::read_new_password()?;
            Context::runtime()?.block_on(ws::user_add(&ctx, name, role, unit.as_deref(), province.as_deref(), display_name, &password))
        }
        Command::User(UserCommand::Passwd { name }) => {
            let ctx = context(cli)?;
            let password = ws::read_new_password()?;
            Context::runtime()?.block_on(ws::user_passwd(&ctx, name, &password))
        }
        Command::User(UserCommand::Assign { name }) => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::user_assign(&ctx, name))
        }
        Command::User(UserCommand::List) => {
            let ctx = context(cli)?;
            Context::runtime()?.block_on(ws::user_list(&ctx))
        }
        Command::Serve { listen, demo, province, config, print_config } => {
            if *print_config {
                return Ok(creditcity_web::config::DEFAULT_FILE.to_owned());
            }
            serve(cli, *listen, *demo, *province, config.as_deref())
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
        Command::Migrate { to, to_files } => {
            let ctx = context(cli)?;
            let target = Location::parse(to, to_files.as_deref()).map_err(|e| Failure { code: 2, message: e.to_string(), hint: None })?;
            Context::runtime()?.block_on(ws::migrate(&ctx, &target))
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

fn serve(cli: &Cli, listen: Option<std::net::SocketAddr>, demo: bool, province: bool, file: Option<&Path>) -> Result<String, Failure> {
    let fail = |code: u8, message: String| Failure { code, message, hint: None };
    let mut config = creditcity_web::Config::load(file).map_err(|m| fail(1, format!("配置:{m}")))?;
    if let Some(l) = listen {
        config.listen = l;
    }
    // --store and --assessment given on the command line win over the file.
    if cli.store != "creditcity.db" || config.store == "creditcity.db" {
        config.store.clone_from(&cli.store);
    }
    if cli.files.is_some() {
        config.files.clone_from(&cli.files);
    }
    if cli.assessment.is_some() {
        config.assessment.clone_from(&cli.assessment);
    }
    config.demo = demo;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    if config.log_json {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        // Colours only on a terminal: a log file or journal gets plain text.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
        tracing_subscriber::fmt().with_ansi(ansi).with_env_filter(filter).init();
    }
    let rubric = load_rubric(cli.rubric.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(5, format!("无法启动运行时:{e}")))?;
    runtime.block_on(async {
        let location = config.location().map_err(|m| fail(2, m))?;
        let loaded = match (config.demo, province) {
            (true, true) => creditcity_web::demo::load_province(&location, &rubric).await.map_err(Failure::from)?,
            (true, false) => creditcity_web::demo::load(&location, &rubric).await.map_err(Failure::from)?,
            _ => false,
        };
        if loaded {
            tracing::info!(store = %location.db.display(), "demo loaded");
        }
        let ws = creditcity_app::Workspaces::open(&location, rubric, config.assessment.as_deref()).await.map_err(|e| {
            // The hint is for a store without an assessment, not for a store that failed.
            let empty = matches!(&e, creditcity_app::AppError::Invalid { field, .. } if field == "assessment")
                || matches!(&e, creditcity_app::AppError::Store(creditcity_store::StoreError::NotFound(_)));
            let mut f = Failure::from(e);
            if empty {
                f.hint = Some("先用 creditcity init --city 城市名 建立评估,或试试 creditcity serve --demo".to_owned());
            }
            f
        })?;
        let users = ws.users().await.map_err(Failure::from)?;
        let store_arg = location.db.display();
        if users.is_empty() {
            return Err(Failure {
                code: 1,
                message: format!("存储 {store_arg} 中还没有任何账号,启动后无人能登录"),
                hint: Some(format!("先创建第一个管理员(会提示输入密码):creditcity --store {store_arg} user add 用户名 --role admin")),
            });
        }
        if !ws.has_active_admin().await.map_err(Failure::from)? {
            eprintln!(
                "提示:存储中没有可用的管理员账号,无人能管理账号和单位。创建一个:creditcity --store {store_arg} user add 用户名 --role admin"
            );
        }
        let state = creditcity_web::state(ws, &config).map_err(|m| fail(5, m))?;
        let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|e| fail(1, format!("无法监听 {}:{e}", config.listen)))?;
        let addr = listener.local_addr().map_err(|e| fail(5, e.to_string()))?;
        eprintln!("creditcity:正在提供 {} 的服务,地址 http://{addr}/ (按 Ctrl-C 停止)", location.db.display());
        if config.demo {
            eprintln!("演示账号(密码 {}):xinyongban 青川市信用办 · renhang 人行 · shangwu 商务局 · zhuanjia 评估专家 · guest 只读", creditcity_web::demo::PASSWORD);
            if province {
                eprintln!(
                    "{}(12 个城市):shengxinyongban 省信用办(只读,全省) · linjiang 临江市信用办 · zhuanjia 负责青川、临江、东山三市",
                    creditcity_web::demo::PROVINCE
                );
            }
        }
        creditcity_web::serve(state, listener).await.map_err(|e| fail(5, format!("服务器:{e}")))?;
        Ok(String::new())
    })
}

/// YYYY-MM-DD, digits where digits belong.
fn is_date(s: &str) -> bool {
    s.len() == 10 && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() })
}

fn read(path: &Path) -> Result<String, Failure> {
    Ok(creditcity_app::files::read_text(path)?)
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(rubric_failure)`
fn rubric_failure(e: creditcity_rubric::RubricError) -> Failure {
    Failure {
        code: 3,
        message: format!("细则文件有 {} 处错误:\n{e}", e.issues.len()),
        hint: Some("细则文件的格式见 rubrics/2019.toml 开头的说明".to_owned()),
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
            message: format!("{} 版细则中没有规则或硬指标“{id}”", rubric.edition),
            hint: Some(format!("规则编号:{};硬指标:G1–G{}", ids.join(" "), rubric.gates.len())),
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

/// About how many lines a CSV file has, from the length of the lines in its first 256 KiB;
/// `None` for a workbook or an unreadable file (the bar then shows the rows read alone).
fn estimate_rows(path: &std::path::Path) -> Option<u64> {
    use std::io::Read as _;
    let size = std::fs::metadata(path).ok()?.len();
    let mut head = Vec::with_capacity(256 * 1024);
    std::fs::File::open(path).ok()?.take(256 * 1024).read_to_end(&mut head).ok()?;
    if head.starts_with(b"PK") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return None;
    }
    // 256 KiB counted once: no need of a crate for it.
    #[allow(clippy::naive_bytecount)]
    let lines = head.iter().filter(|b| **b == b'\n').count() as u64;
    (lines > 0 && !head.is_empty()).then(|| (size.saturating_mul(lines) / head.len() as u64).max(1))
}

/// One line of the import's progress: a bar when the total can be estimated.
fn progress_line(rows: u64, estimate: Option<u64>, per_second: f64) -> String {
    const WIDTH: u64 = 30;
    match estimate {
        Some(total) => {
            let done = (rows.min(total) * WIDTH) / total.max(1);
            let percent = (rows.min(total) * 100) / total.max(1);
            format!(
                "[{}{}] {percent:>3}% 已读取 {rows} 行,约 {total} 行({per_second:.0} 行/秒)",
                "#".repeat(usize::try_from(done).unwrap_or(0)),
                "-".repeat(usize::try_from(WIDTH - done).unwrap_or(0))
            )
        }
        None => format!("已读取 {rows} 行({per_second:.0} 行/秒)"),
    }
}

#[cfg(test)]
mod tests {
    use super::{estimate_rows, progress_line};

    #[test]
    fn the_import_bar_fills_with_the_rows_read_and_never_overflows() {
        assert!(progress_line(0, Some(1000), 0.0).starts_with(&format!("[{}]   0%", "-".repeat(30))));
        assert!(progress_line(500, Some(1000), 10.0).starts_with(&format!("[{}{}]  50%", "#".repeat(15), "-".repeat(15))));
        // The estimate was short: full, not past it.
        assert!(progress_line(1500, Some(1000), 10.0).starts_with(&format!("[{}] 100%", "#".repeat(30))));
        assert_eq!(progress_line(42, None, 7.0), "已读取 42 行(7 行/秒)");
    }

    #[test]
    fn a_csv_s_rows_are_estimated_from_its_first_lines_and_a_workbook_s_are_not() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let csv = dir.path().join("a.csv");
        std::fs::write(&csv, "名称,代码\n".repeat(100_000)).unwrap_or_else(|e| panic!("{e}"));
        let estimate = estimate_rows(&csv).unwrap_or_else(|| panic!("no estimate"));
        assert!((99_000..=101_000).contains(&estimate), "{estimate}");
        let xlsx = dir.path().join("a.xlsx");
        std::fs::write(&xlsx, b"PK\x03\x04rest").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(estimate_rows(&xlsx), None);
    }
}
