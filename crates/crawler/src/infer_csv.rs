//! Delimited text (CSV, TSV, ...): the delimiter, whether the first row is a header,
//! and the column types, from a sample of rows — the rules of AWS Glue's built-in CSV
//! classifier in the simple case.
//!
//! **Header rule (as Glue documents it):** the first row is a header when every cell
//! is a non-empty, unique string (not a number, boolean or timestamp), every cell but
//! the last is shorter than 150 bytes, and the data rows below are "sufficiently
//! different": at least one of their columns has a type other than `string`. A file
//! whose every column is `string` therefore has no header and columns `col0, col1, …`.
//!
//! **Types:** each non-empty value is `boolean` (`true`/`false`), `bigint`, `double`,
//! `timestamp` (`YYYY-MM-DD hh:mm:ss[.fff]`, `T` allowed) or `string`; a column takes
//! the merge of its values ([`crate::types::merge`]); an all-empty column is `string`.

use crate::types::{HiveType, merge};

/// Delimiters Glue's CSV classifier recognises: comma, tab, pipe, semicolon, Ctrl-A.
pub const DELIMITERS: [u8; 5] = [b',', b'\t', b'|', b';', 0x01];

/// Header cells (but the last) must be shorter than this many bytes.
const MAX_HEADER_CELL: usize = 150;

/// What a sample of delimited text says about its table.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvSample {
    /// Whether the first row is a header (its cells name the columns).
    pub header: bool,
    /// Column names (lowercased header cells, or `col<i>`) and types.
    pub columns: Vec<(String, HiveType)>,
    /// Data rows in the sample (the header not counted).
    pub records: u64,
    /// Whether values are quoted (`"`), which selects OpenCSVSerde over LazySimpleSerDe.
    pub quoted: bool,
}

/// The delimiter of `text` (the first lines of a file): the recognised delimiter that
/// occurs the same, non-zero number of times on every sampled line, the most frequent
/// one winning; `None` when no delimiter is used consistently.
pub fn sniff_delimiter(text: &str) -> Option<u8> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    // The last line of a truncated sample may be partial.
    let lines = if lines.len() > 2 {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    };
    let first = lines.first()?;
    let mut best: Option<(u8, usize)> = None;
    for delimiter in DELIMITERS {
        let count = first.bytes().filter(|b| *b == delimiter).count();
        if count == 0 {
            continue;
        }
        let consistent = lines
            .iter()
            .all(|line| line.bytes().filter(|b| *b == delimiter).count() == count);
        if consistent && best.is_none_or(|(_, n)| count > n) {
            best = Some((delimiter, count));
        }
    }
    best.map(|(d, _)| d)
}

/// The type of one cell; empty (after trimming) is `Null`.
pub fn scalar(value: &str) -> HiveType {
    let v = value.trim();
    if v.is_empty() {
        return HiveType::Null;
    }
    if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
        return HiveType::Boolean;
    }
    if is_integer(v) {
        return if v.parse::<i64>().is_ok() {
            HiveType::BigInt
        } else {
            HiveType::Double
        };
    }
    if is_decimal(v) {
        return HiveType::Double;
    }
    if is_timestamp(v) {
        return HiveType::Timestamp;
    }
    HiveType::String
}

fn is_integer(v: &str) -> bool {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A plain decimal number (`-1.5`, `2e10`, `.5`); not `nan`, `inf` or hex.
fn is_decimal(v: &str) -> bool {
    let body = v.strip_prefix(['-', '+']).unwrap_or(v);
    let plain = body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    plain && body.bytes().any(|b| b.is_ascii_digit()) && v.parse::<f64>().is_ok()
}

/// `YYYY-MM-DD hh:mm:ss` with an optional fraction (a `T` may separate date and time).
fn is_timestamp(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() < 19 {
        return false;
    }
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b' ' || b[10] == b'T')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let fraction = match &b[19..] {
        [] => true,
        [b'.', rest @ ..] => !rest.is_empty() && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    shape && fraction
}

/// Samples up to `max_rows` rows of delimited `bytes` (a UTF-8 BOM is skipped;
/// invalid UTF-8 is read lossily).
pub fn sample(bytes: &[u8], delimiter: u8, max_rows: usize) -> CsvSample {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut record = csv::ByteRecord::new();
    while rows.len() < max_rows {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                let row: Vec<String> = record
                    .iter()
                    .map(|cell| String::from_utf8_lossy(cell).into_owned())
                    .collect();
                if row.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                rows.push(row);
            }
            Ok(false) | Err(_) => break,
        }
    }
    let quoted = bytes.contains(&b'"');
    from_rows(&rows, quoted)
}

/// Column names and types of parsed rows.
pub fn from_rows(rows: &[Vec<String>], quoted: bool) -> CsvSample {
    let header = detect_header(rows);
    let data = if header { &rows[1..] } else { rows };
    let width = if header {
        rows[0].len()
    } else {
        data.iter().map(Vec::len).max().unwrap_or(0)
    };
    let columns = (0..width)
        .map(|i| {
            let name = if header {
                rows[0][i].trim().to_lowercase()
            } else {
                format!("col{i}")
            };
            let kind = data
                .iter()
                .filter_map(|row| row.get(i))
                .fold(HiveType::Null, |acc, cell| merge(acc, scalar(cell)));
            (name, kind)
        })
        .collect();
    CsvSample {
        header,
        columns,
        records: data.len() as u64,
        quoted,
    }
}

/// Glue's header rule (module docs).
pub fn detect_header(rows: &[Vec<String>]) -> bool {
    let Some((first, data)) = rows.split_first() else {
        return false;
    };
    if data.is_empty() || first.is_empty() {
        return false;
    }
    let last = first.len() - 1;
    let cells_ok = first.iter().enumerate().all(|(i, cell)| {
        let cell = cell.trim();
        !cell.is_empty()
            && scalar(cell) == HiveType::String
            && (i == last || cell.len() < MAX_HEADER_CELL)
    });
    if !cells_ok {
        return false;
    }
    let mut names: Vec<String> = first.iter().map(|c| c.trim().to_lowercase()).collect();
    names.sort();
    names.dedup();
    if names.len() != first.len() {
        return false;
    }
    (0..first.len()).any(|i| {
        let kind = data
            .iter()
            .filter_map(|row| row.get(i))
            .fold(HiveType::Null, |acc, cell| merge(acc, scalar(cell)));
        !matches!(kind, HiveType::String | HiveType::Null)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(text: &str) -> Vec<(String, String)> {
        let delimiter = sniff_delimiter(text).unwrap_or(b',');
        sample(text.as_bytes(), delimiter, 1000)
            .columns
            .into_iter()
            .map(|(n, t)| (n, t.to_string()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn scalars_are_typed() {
        assert_eq!(scalar("42"), HiveType::BigInt);
        assert_eq!(scalar("-7"), HiveType::BigInt);
        assert_eq!(scalar("99999999999999999999"), HiveType::Double);
        assert_eq!(scalar("3.25"), HiveType::Double);
        assert_eq!(scalar("1e5"), HiveType::Double);
        assert_eq!(scalar("TRUE"), HiveType::Boolean);
        assert_eq!(scalar("2024-01-31 12:00:00"), HiveType::Timestamp);
        assert_eq!(scalar("2024-01-31T12:00:00.125"), HiveType::Timestamp);
        assert_eq!(scalar("2024-01-31"), HiveType::String);
        assert_eq!(scalar("nan"), HiveType::String);
        assert_eq!(scalar("inf"), HiveType::String);
        assert_eq!(scalar("0x1F"), HiveType::String);
        assert_eq!(scalar("  "), HiveType::Null);
    }

    #[test]
    fn header_and_types_are_inferred() {
        let text = "id,Name,price,active,seen\n1,apple,1.5,true,2024-01-01 10:00:00\n\
                    2,pear,2,false,2024-01-02 11:30:00\n3,,,,\n";
        assert_eq!(
            columns(text),
            pairs(&[
                ("id", "bigint"),
                ("name", "string"),
                ("price", "double"),
                ("active", "boolean"),
                ("seen", "timestamp"),
            ])
        );
        let sample = sample(text.as_bytes(), b',', 1000);
        assert!(sample.header);
        assert_eq!(sample.records, 3);
        assert!(!sample.quoted);
    }

    #[test]
    fn all_string_files_have_no_header() {
        let text = "city,country\nParis,France\nLima,Peru\n";
        assert_eq!(
            columns(text),
            pairs(&[("col0", "string"), ("col1", "string")])
        );
    }

    #[test]
    fn headers_must_be_unique_strings() {
        let numeric_first = "1,2\n3,4\n";
        assert_eq!(
            columns(numeric_first),
            pairs(&[("col0", "bigint"), ("col1", "bigint")])
        );
        let duplicate = "a,A\n1,2\n";
        assert!(!detect_header(&[
            vec!["a".into(), "A".into()],
            vec!["1".into(), "2".into()]
        ]));
        assert_eq!(columns(duplicate)[0].1, "string");
        let long = format!("{},b\n1,2\n", "x".repeat(150));
        assert_eq!(columns(&long)[0].0, "col0");
    }

    #[test]
    fn delimiters_and_quotes() {
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n"), Some(b'\t'));
        assert_eq!(sniff_delimiter("a|b\n1|2\n"), Some(b'|'));
        assert_eq!(sniff_delimiter("a;b,c\n1;2\n"), Some(b';'));
        assert_eq!(sniff_delimiter("just words\nmore words\n"), None);
        let quoted = "name,qty\n\"Smith, J\",3\n\"Doe, A\",4\n";
        let s = sample(quoted.as_bytes(), b',', 100);
        assert!(s.quoted && s.header);
        assert_eq!(s.columns[1], ("qty".to_string(), HiveType::BigInt));
        let bom = "\u{feff}id,v\n1,x\n";
        assert_eq!(columns(bom)[0].0, "id");
    }
}
