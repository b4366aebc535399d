//! The self-assessment report of the demo (on the backend under test): its content, and
//! a PDF whose Chinese text survives.

use std::process::Command;

use creditcity_app::Workspace;
use creditcity_rubric::Rubric;

#[test]
fn the_report_has_cover_summary_rules_and_gap_plan_and_prints_to_pdf_with_chinese() {
    let (dir, location) = crate::harness::demo_store();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    let html = rt.block_on(async {
        let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
        let ws = Workspace::open(&location, rubric, None).await.unwrap_or_else(|e| panic!("{e}"));
        creditcity_web::report::html(&ws).await.unwrap_or_else(|e| panic!("{e:?}"))
    });
    for needle in ["青川市<br>社会信用体系建设示范城市创建自评报告", "一、总体情况", "基础性硬指标", "二、逐项自评", "7.2a 金融案件执结率", "三、失分分析与争取计划", "各责任单位可争取的分数", "执结统计表.pdf"] {
        assert!(html.contains(needle), "the report lacks {needle}");
    }
    let html_path = dir.path().join("自评报告.html");
    std::fs::write(&html_path, &html).unwrap_or_else(|e| panic!("{e}"));
    let pdf = dir.path().join("自评报告.pdf");
    creditcity_web::report::to_pdf(&html_path, &pdf).unwrap_or_else(|e| panic!("{e}"));
    let bytes = std::fs::read(&pdf).unwrap_or_else(|e| panic!("{}: {e}", pdf.display()));
    assert!(bytes.starts_with(b"%PDF"), "a PDF");
    // The Chinese text is in the PDF as text, not as missing glyphs.
    let text = Command::new("pdftotext").arg(&pdf).arg("-").output().unwrap_or_else(|e| panic!("pdftotext (poppler-utils): {e}"));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("社会信用体系建设示范城市创建自评报告"), "{}", text.chars().take(300).collect::<String>());
    assert!(text.contains("失分分析与争取计划"));
    // Embedded as CID fonts, not Type 3 glyph procedures (fonts-wqy-microhei, no faked bold).
    let fonts = Command::new("pdffonts").arg(&pdf).output().unwrap_or_else(|e| panic!("pdffonts (poppler-utils): {e}"));
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    assert!(fonts.contains("CID TrueType") && !fonts.contains("Type 3"), "{fonts}");
}
