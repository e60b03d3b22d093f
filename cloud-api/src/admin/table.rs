//! The plain aligned tables the list commands print.

/// `rows` under `header`, each column as wide as its widest cell plus two spaces (the last
/// column unpadded); one line each, newline-terminated.
pub(crate) fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| h.to_string()).collect())
        .chain(rows)
        .collect();
    let mut widths = vec![0; header.len()];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(&widths) {
            line.push_str(&format!("{cell:<width$}  "));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec!["acme".to_string(), "Acme Mushrooms".into(), "2".into()],
            vec!["b".to_string(), "B".into(), "10".into()],
        ];
        assert_eq!(
            table(&["TENANT", "NAME", "FARMS"], rows),
            "TENANT  NAME            FARMS\n\
             acme    Acme Mushrooms  2\n\
             b       B               10\n"
        );
        assert_eq!(table(&["ID", "NAME"], Vec::new()), "ID  NAME\n");
    }
}
