//! Plain-text tables for the terminal (`--format table`), and short numbers for their cells.

/// Renders a header and rows as aligned columns, two spaces apart, with a rule under the header.
/// Rows shorter than the header get empty cells.
pub fn render(header: &[String], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .filter_map(|r| r.get(i))
            .chain(header.get(i))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{:<w$}", cells.get(i).map_or("", String::as_str)))
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&line(&rule));
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

/// A number in at most about 7 significant digits, for a table cell (CSV and JSON keep every
/// digit).
pub fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    let magnitude = v.abs();
    if !(1e-4..1e7).contains(&magnitude) {
        return format!("{v:.4e}");
    }
    let decimals = (6 - magnitude.log10().floor() as i32).clamp(0, 10) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_short_rows_are_padded() {
        let header = vec!["name".to_owned(), "n".to_owned()];
        let rows = vec![vec!["a".to_owned(), "10".to_owned()], vec!["longer".to_owned()]];
        assert_eq!(render(&header, &rows), "name    n\n------  --\na       10\nlonger\n");
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(0.1 + 0.2), "0.3");
        assert_eq!(short(1234.5678), "1234.568");
        assert_eq!(short(-2.0), "-2");
        assert_eq!(short(1.5e-7), "1.5000e-7");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(f64::INFINITY), "inf");
    }
}
