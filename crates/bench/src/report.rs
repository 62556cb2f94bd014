//! The report: sections of notes and tables printed as they are measured (Markdown that
//! reads well in a terminal), each target figure beside its target, and a closing
//! summary table. The same text can be written to a file for BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::procfs::Machine;

/// A table of figures.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column titles.
    header: Vec<String>,
    /// Cells, row by row.
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (as many cells as columns).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Markdown with columns padded to equal width.
    pub fn markdown(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::from("|");
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map_or("", String::as_str);
                let pad = width - cell.chars().count();
                let _ = write!(out, " {cell}{} |", " ".repeat(pad));
            }
            out.push('\n');
            out
        };
        let mut out = line(&self.header);
        out.push('|');
        for width in &widths {
            let _ = write!(out, "{}|", "-".repeat(width + 2));
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// Whether a figure met its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The target is met.
    Met,
    /// The target is missed.
    Missed,
}

/// One figure compared with its target.
#[derive(Debug, Clone)]
pub struct Check {
    /// What was measured.
    pub figure: String,
    /// The measured value, formatted.
    pub value: String,
    /// The target, formatted.
    pub target: String,
    /// Met or missed.
    pub verdict: Verdict,
}

/// Everything one run of the suite measured.
#[derive(Debug, Default)]
pub struct Report {
    /// Everything printed so far (Markdown).
    text: String,
    /// Every figure checked against its target.
    checks: Vec<Check>,
}

impl Report {
    /// A report headed by the machine description and the command line.
    pub fn new(machine: &Machine, command: &str) -> Self {
        let mut report = Self::default();
        let mut table = Table::new(&["machine", ""]);
        table.row(vec!["date".into(), machine.date.clone()]);
        table.row(vec!["nproc".into(), machine.cpus.to_string()]);
        table.row(vec!["CPU".into(), machine.cpu_model.clone()]);
        table.row(vec!["memory".into(), machine.memory.clone()]);
        table.row(vec!["kernel".into(), machine.kernel.clone()]);
        table.row(vec![
            "load average at start".into(),
            machine.load_at_start.clone(),
        ]);
        report.emit(&table.markdown());
        report.emit(&format!("\nCommand:\n\n```\n{command}\n```\n"));
        report
    }

    /// Starts a section.
    pub fn section(&mut self, title: &str) {
        self.emit(&format!("\n## {title}\n"));
    }

    /// A paragraph of explanation.
    pub fn note(&mut self, text: &str) {
        self.emit(&format!("{text}\n"));
    }

    /// A table.
    pub fn table(&mut self, table: &Table) {
        self.emit(&format!("\n{}", table.markdown()));
    }

    /// Records a figure against its target; printed at once and in the summary.
    pub fn check(&mut self, figure: &str, value: String, target: &str, met: bool) {
        let verdict = if met { Verdict::Met } else { Verdict::Missed };
        self.emit(&format!(
            "- target: {figure} = {value} (target {target}): {}\n",
            if met { "met" } else { "MISSED" }
        ));
        self.checks.push(Check {
            figure: figure.to_string(),
            value,
            target: target.to_string(),
            verdict,
        });
    }

    /// Appends the summary of every checked target and returns whether all were met.
    pub fn finish(&mut self) -> bool {
        self.section("Summary: figures against targets");
        let mut table = Table::new(&["figure", "measured", "target", "verdict"]);
        for check in &self.checks {
            table.row(vec![
                check.figure.clone(),
                check.value.clone(),
                check.target.clone(),
                match check.verdict {
                    Verdict::Met => "met".into(),
                    Verdict::Missed => "MISSED".into(),
                },
            ]);
        }
        let text = table.markdown();
        self.emit(&format!("\n{text}"));
        self.checks.iter().all(|c| c.verdict == Verdict::Met)
    }

    /// Writes the whole report as Markdown.
    pub fn write(&self, path: &Path) -> Result<()> {
        std::fs::write(path, &self.text)?;
        Ok(())
    }

    /// Prints `text` and keeps it for the file.
    fn emit(&mut self, text: &str) {
        print!("{text}");
        self.text.push_str(text);
    }
}

/// Formats a rate (per second) with a thousands separator.
pub fn rate(value: f64) -> String {
    thousands(value.round() as u64)
}

/// Formats an integer with thin thousands separators (`12,345`).
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats milliseconds: two decimals below 10 ms, one below 1000, none above.
pub fn ms(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2} ms")
    } else if value < 1000.0 {
        format!("{value:.1} ms")
    } else {
        format!("{value:.0} ms")
    }
}

/// Formats a percentage of one core.
pub fn pct(value: f64) -> String {
    format!("{value:.0}%")
}
