//! Pure formatting helpers for output meant for people: relative times, short ids, sizes,
//! aligned tables. No I/O and no clock (callers pass `now`).

/// How many hex digits a short id shows.
pub const SHORT_ID_DIGITS: usize = 12;

/// `then` relative to `now` (both Unix ms): "just now", "42s ago", "3m ago", "5h ago",
/// "2d ago", "3w ago", "1y ago"; times ahead of `now` by more than a few seconds read
/// "in 3m".
pub fn relative_time(now_ms: u64, then_ms: u64) -> String {
    let (diff, ahead) = if then_ms > now_ms {
        (then_ms - now_ms, true)
    } else {
        (now_ms - then_ms, false)
    };
    let secs = diff / 1000;
    if secs < 10 {
        return "just now".into();
    }
    const UNITS: [(u64, &str); 6] = [
        (365 * 86_400, "y"),
        (7 * 86_400, "w"),
        (86_400, "d"),
        (3_600, "h"),
        (60, "m"),
        (1, "s"),
    ];
    let (size, unit) = UNITS
        .iter()
        .copied()
        .find(|(size, _)| secs >= *size)
        .unwrap_or((1, "s"));
    let n = secs / size;
    if ahead {
        format!("in {n}{unit}")
    } else {
        format!("{n}{unit} ago")
    }
}

/// The first [`SHORT_ID_DIGITS`] characters of a hex id (the CLI accepts unique prefixes).
pub fn short_id(hex: &str) -> &str {
    hex.get(..SHORT_ID_DIGITS).unwrap_or(hex)
}

/// `@handle`, or `?` when the handle is not known.
pub fn at_handle(handle: Option<&str>) -> String {
    match handle {
        Some(h) if !h.is_empty() => format!("@{h}"),
        _ => "?".into(),
    }
}

/// A byte count for people: "512 B", "2.1 KiB", "7.9 MiB".
pub fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    // Display only: precision loss on huge values does not matter.
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else if b < KIB * KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else {
        format!("{:.1} GiB", b / (KIB * KIB * KIB))
    }
}

/// `text` on one line (line breaks become spaces), cut to `max` characters with "…".
pub fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `n` and the noun, plural when `n != 1`: "1 photo", "3 photos".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A safety number as people compare it: its digits in groups of five, four groups a line
/// (60 digits make three lines, as Signal shows them). Anything but digits is ignored.
pub fn safety_number(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let groups: Vec<String> = digits.chunks(5).map(|g| g.iter().collect()).collect();
    groups.chunks(4).map(|line| line.join(" ") + "\n").collect()
}

/// Rows as aligned columns separated by two spaces; every line ends without trailing
/// spaces and with a newline. Widths count characters.
pub fn table<R: AsRef<[String]>>(rows: &[R]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(max) => *max = (*max).max(w),
                None => widths.push(w),
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.as_ref().iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            let pad = widths[i] - cell.chars().count();
            line.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    #[test]
    fn relative_times_pick_the_largest_unit() {
        let ago = |secs: u64| relative_time(NOW, NOW - secs * 1000);
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(9), "just now");
        assert_eq!(ago(42), "42s ago");
        assert_eq!(ago(60), "1m ago");
        assert_eq!(ago(3 * 60 + 59), "3m ago");
        assert_eq!(ago(5 * 3600), "5h ago");
        assert_eq!(ago(2 * 86_400 + 5), "2d ago");
        assert_eq!(ago(15 * 86_400), "2w ago");
        assert_eq!(ago(400 * 86_400), "1y ago");
        assert_eq!(relative_time(NOW, NOW + 2_000), "just now");
        assert_eq!(relative_time(NOW, NOW + 180_000), "in 3m");
    }

    #[test]
    fn short_ids_are_twelve_digits() {
        let id = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
        assert_eq!(short_id(id), "a1b2c3d4e5f6");
        assert_eq!(short_id("abc"), "abc");
    }

    #[test]
    fn handles_sizes_counts_and_lines() {
        assert_eq!(at_handle(Some("bob")), "@bob");
        assert_eq!(at_handle(None), "?");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(2150), "2.1 KiB");
        assert_eq!(size(8 * 1024 * 1024), "8.0 MiB");
        assert_eq!(count(1, "photo"), "1 photo");
        assert_eq!(count(0, "like"), "0 likes");
        assert_eq!(one_line("a\nb  c", 10), "a b c");
        assert_eq!(one_line("abcdefghij", 5), "abcd…");
    }

    #[test]
    fn safety_numbers_show_as_three_lines_of_four_groups() {
        let digits: String = (0..60).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
        let spaced = digits
            .as_bytes()
            .chunks(5)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect::<Vec<_>>()
            .join(" ");
        let expected = "01234 56789 01234 56789\n\
                        01234 56789 01234 56789\n\
                        01234 56789 01234 56789\n";
        assert_eq!(safety_number(&digits), expected);
        assert_eq!(safety_number(&spaced), expected);
    }

    #[test]
    fn tables_align_columns_without_trailing_spaces() {
        let rows = vec![
            vec!["HANDLE".to_owned(), "PEER".to_owned(), "SINCE".to_owned()],
            vec!["@bob".to_owned(), "x1".to_owned(), "3m ago".to_owned()],
            vec!["@caroline".to_owned(), "yy22".to_owned(), String::new()],
        ];
        assert_eq!(
            table(&rows),
            "HANDLE     PEER  SINCE\n@bob       x1    3m ago\n@caroline  yy22\n"
        );
        assert_eq!(table::<Vec<String>>(&[]), "");
        let accents = vec![
            vec!["é".to_owned(), "x".to_owned()],
            vec!["ab".to_owned(), "y".to_owned()],
        ];
        assert_eq!(table(&accents), "é   x\nab  y\n");
    }
}
