//! A line diff for people: the lines of the old and new text, `-` removed and `+` added, with
//! two lines of context around each change. Small inputs only (task definitions).

/// Lines of unchanged context shown around a change.
const CONTEXT: usize = 2;

/// The diff of `old` against `new`, or `None` when they are equal.
pub fn diff(old: &str, new: &str) -> Option<String> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Longest common subsequence table, from the end.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(('-', a[i]));
            i += 1;
        } else {
            lines.push(('+', b[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..lines.len()).filter(|k| lines[*k].0 != ' ').collect();
    if changed.is_empty() {
        return None;
    }
    let shown = |k: usize| {
        changed
            .iter()
            .any(|c| k + CONTEXT >= *c && k <= c + CONTEXT)
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (mark, line)) in lines.iter().enumerate() {
        if shown(k) {
            if skipped {
                out.push_str("  …\n");
                skipped = false;
            }
            out.push_str(&format!("{mark} {line}\n"));
        } else {
            skipped = true;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(diff("a\nb\n", "a\nb\n"), None);
    }

    #[test]
    fn a_changed_line_shows_with_its_context() {
        let old = "1\n2\n3\n4\nimage: a\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nimage: b\n6\n7\n8\n9\n";
        assert_eq!(
            diff(old, new).unwrap(),
            "  …\n  3\n  4\n- image: a\n+ image: b\n  6\n  7\n"
        );
    }

    #[test]
    fn everything_is_added_against_nothing() {
        assert_eq!(diff("", "a\nb").unwrap(), "+ a\n+ b\n");
    }
}
