//! `creditcity`: score a city against the rubric, and inspect rubric files.
//!
//! Data goes to stdout, diagnostics to stderr. Exit codes:
//! 0 success · 1 invalid assessment input · 2 invalid command line ·
//! 3 invalid rubric file · 4 a file could not be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use creditcity::render;
use creditcity_rubric::{InputKind, Rubric, format, score};

#[derive(Parser)]
#[command(name = "creditcity", version, about = "社会信用体系建设示范城市评估 — score a city against the rubric")]
struct Cli {
    /// Rubric file to use instead of the embedded 2019 edition.
    #[arg(long, global = true, value_name = "FILE")]
    rubric: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score an assessment file: every rule, its reason, the gates and the totals.
    Score {
        /// The city's assessment file (TOML).
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Inspect rubric files.
    #[command(subcommand)]
    Rubric(RubricCommand),
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

/// A failure with the exit code that says what kind it was.
struct Failure {
    code: u8,
    message: String,
    hint: Option<String>,
}

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

fn run(cli: &Cli) -> Result<String, Failure> {
    match &cli.command {
        Command::Score { file, format } => {
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
    let mut out = format!(
        "{} {}({} 分{hi})\n所属:{} {}\n\n评分标准:\n  {}\n\n评分细则:\n  {}\n\n输入:\n",
        rule.id,
        rule.title,
        format::plain(rule.max),
        section.id,
        section.title,
        rule.standard,
        rule.detail
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
