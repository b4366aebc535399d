//! Time to export a city template, to import a filled workbook of every input of a city
//! with 60 units, and to export the score sheet and the evidence package.
//!
//! Run: `cargo bench -p creditcity-app --bench excel`

use std::time::Instant;

use creditcity_app::{Actor, Workspace, init};
use creditcity_rubric::Rubric;
use creditcity_store::{Location, PlanUnit};

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let loc = Location::at(&dir.path().join("b.db"));
        let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
        let who = Actor("bench".to_owned());
        init(&loc, &rubric, "青川市", "2019", &who).await.unwrap_or_else(|e| panic!("{e}"));
        let ws = Workspace::open(&loc, rubric.clone(), None).await.unwrap_or_else(|e| panic!("{e}"));
        ws.import_plan(include_str!("../../../examples/qingchuan-plan.toml"), &who).await.unwrap_or_else(|e| panic!("{e}"));
        for i in ws.units().await.map_or(0, |u| u.len())..60 {
            let u = PlanUnit { name: format!("单位{i:02}"), kind: "市直部门".to_owned(), parent: None, contact: String::new(), aliases: Vec::new() };
            ws.add_unit(&u.name, &u.kind, &who).await.unwrap_or_else(|e| panic!("{e}"));
        }
        ws.import_inputs(include_str!("../../../examples/linjiang-midway.toml"), "midway", None, &who).await.unwrap_or_else(|e| panic!("{e}"));
        // A filled city workbook: every input of the complete example, as a person types it.
        let complete = rubric.parse_assessment(include_str!("../../../examples/qingchuan-complete.toml")).unwrap_or_else(|e| panic!("{e}"));
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("填报").unwrap_or_else(|e| panic!("{e}"));
        sheet.write_string(0, 0, "键").unwrap_or_else(|e| panic!("{e}"));
        sheet.write_string(0, 1, "填报值").unwrap_or_else(|e| panic!("{e}"));
        let entries = complete.entries(&rubric);
        let mut rows = 0;
        for (i, e) in entries.iter().enumerate() {
            if matches!(rubric.input_id(&e.key).map(|id| rubric.input(id).kind), Some(creditcity_rubric::InputKind::Judged { .. })) {
                continue;
            }
            let r = (i + 1) as u32;
            sheet.write_string(r, 0, &e.key).unwrap_or_else(|e| panic!("{e}"));
            sheet.write_string(r, 1, e.value.to_toml()).unwrap_or_else(|e| panic!("{e}"));
            rows += 1;
        }
        let filled = wb.save_to_buffer().unwrap_or_else(|e| panic!("{e}"));

        let t = Instant::now();
        let template = ws.export_template(None).await.unwrap_or_else(|e| panic!("{e}"));
        println!("export the city template ({} bytes): {:.1} ms", template.len(), t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let n = ws.import_template(&filled, "city.xlsx", None, &who).await.unwrap_or_else(|e| panic!("{e}"));
        println!("import a filled city workbook ({rows} rows, {n} values changed, 60 units): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let scores = ws.export_scores(false).await.unwrap_or_else(|e| panic!("{e}"));
        println!("export the score sheet ({} bytes): {:.1} ms", scores.len(), t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        ws.export_evidence_bytes().await.unwrap_or_else(|e| panic!("{e}"));
        println!("export the evidence package: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    });
}
