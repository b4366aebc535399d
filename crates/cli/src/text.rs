//! Terminal text helpers: display width of Chinese text, padding, Chinese numerals.

use unicode_width::UnicodeWidthStr;

/// Columns the text takes in a terminal (a CJK character takes two).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Pads on the right to `cols` display columns; cuts with `…` when longer.
pub fn pad(s: &str, cols: usize) -> String {
    let w = width(s);
    if w <= cols {
        return format!("{s}{}", " ".repeat(cols - w));
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw + 1 > cols {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    used += 1;
    format!("{out}{}", " ".repeat(cols.saturating_sub(used)))
}

/// Pads on the left to `cols` display columns.
pub fn pad_left(s: &str, cols: usize) -> String {
    format!("{}{s}", " ".repeat(cols.saturating_sub(width(s))))
}

/// 1 → 一, 11 → 十一, as the rubric numbers its sections.
pub fn chinese_numeral(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n as usize].to_owned(),
        10 => "十".to_owned(),
        11..=19 => format!("十{}", DIGITS[(n % 10) as usize]),
        20..=99 => {
            let ones = if n % 10 == 0 { String::new() } else { DIGITS[(n % 10) as usize].to_owned() };
            format!("{}十{ones}", DIGITS[(n / 10) as usize])
        }
        _ => n.to_string(),
    }
}

/// Wraps text to lines of at most `cols` display columns, breaking between CJK
/// characters or at spaces, never inside a number or a Latin word.
pub fn wrap(s: &str, cols: usize) -> Vec<String> {
    // Tokens: a run of ASCII non-space characters (with a trailing space), or one other character.
    let mut tokens: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in s.chars() {
        if c.is_ascii() && !c.is_ascii_whitespace() {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            tokens.push(std::mem::take(&mut run));
        }
        match tokens.last_mut() {
            // Keep closing punctuation and spaces with what precedes them.
            Some(last) if c == ' ' || "，。;:、)”%".contains(c) => last.push(c),
            _ => tokens.push(c.to_string()),
        }
    }
    if !run.is_empty() {
        tokens.push(run);
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for token in tokens {
        if width(&line) + width(token.trim_end()) > cols && !line.is_empty() {
            lines.push(line.trim_end().to_owned());
            line.clear();
        }
        line.push_str(&token);
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_two_columns_wide() {
        assert_eq!(width("信用abc"), 7);
        assert_eq!(width(&pad("信用", 6)), 6);
        assert_eq!(width(&pad("社会信用体系建设", 9)), 9);
        assert_eq!(width(&pad_left("1.00", 6)), 6);
    }

    #[test]
    fn numerals_follow_the_rubric() {
        assert_eq!(chinese_numeral(1), "一");
        assert_eq!(chinese_numeral(10), "十");
        assert_eq!(chinese_numeral(11), "十一");
        assert_eq!(chinese_numeral(20), "二十");
    }

    #[test]
    fn wrap_respects_display_width() {
        let lines = wrap("一二三四五六七八九十", 8);
        assert_eq!(lines, vec!["一二三四", "五六七八", "九十"]);
        let lines = wrap("平均值 = 83.8333,得分", 14);
        assert_eq!(lines, vec!["平均值 =", "83.8333,得分"]);
    }
}
