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

/// Wraps text to lines of at most `cols` display columns, breaking between CJK
/// characters or at spaces, never inside a number or a Latin word.
pub fn wrap(s: &str, cols: usize) -> Vec<String> {
    // Tokens: a run of ASCII non-space characters (with a trailing space), or one other character.
    // Line-breaking rules of Chinese typesetting (禁则): a closing mark never starts a
    // line, an opening mark never ends one.
    const CLOSING: &str = "，。；：、）〕」』】》”’%！？…,.;:)]";
    const OPENING: &str = "（〔「『【《“‘([";
    let mut tokens: Vec<String> = Vec::new();
    let mut run = String::new();
    let mut glue = false;
    for c in s.chars() {
        let ascii_word = c.is_ascii() && !c.is_ascii_whitespace() && !OPENING.contains(c);
        let closes_previous = CLOSING.contains(c) && run.is_empty() && !tokens.is_empty();
        if ascii_word && !closes_previous {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            match tokens.last_mut() {
                Some(last) if glue => last.push_str(&run),
                _ => tokens.push(std::mem::take(&mut run)),
            }
            run.clear();
            glue = false;
        }
        match tokens.last_mut() {
            // Keep closing punctuation and spaces with what precedes them, and what
            // follows an opening mark with it.
            Some(last) if c == ' ' || CLOSING.contains(c) || glue => last.push(c),
            _ => tokens.push(c.to_string()),
        }
        glue = OPENING.contains(c);
    }
    if !run.is_empty() {
        match tokens.last_mut() {
            Some(last) if glue => last.push_str(&run),
            _ => tokens.push(run),
        }
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
    fn no_line_starts_with_a_closing_mark_or_ends_with_an_opening_one() {
        let text = "实行审批替代型承诺的审批事项数(国发〔2018〕35号的 19 项中)再增加 2 项;G7(一票否决项)“信易贷”(酌情计分)。";
        for cols in 4..40 {
            for line in wrap(text, cols) {
                let first = line.chars().next().unwrap_or(' ');
                let last = line.chars().last().unwrap_or(' ');
                assert!(!"，。；：、）〕」』】》”’%！？…,.;:)".contains(first), "{cols}: line starts with {first}: {line}");
                assert!(!"（〔「『【《“‘(".contains(last), "{cols}: line ends with {last}: {line}");
            }
            assert_eq!(wrap(text, cols).concat().replace(' ', ""), text.replace(' ', ""), "{cols}: nothing lost");
        }
    }

    #[test]
    fn wrap_respects_display_width() {
        let lines = wrap("一二三四五六七八九十", 8);
        assert_eq!(lines, vec!["一二三四", "五六七八", "九十"]);
        let lines = wrap("平均值 = 83.8333,得分", 14);
        assert_eq!(lines, vec!["平均值 =", "83.8333,得分"]);
    }
}
