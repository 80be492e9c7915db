//! CSV for spreadsheets. Every export writes through here, so that no cell a patient, a
//! colleague or LINE named runs as a formula when the file is opened (what OWASP calls CSV
//! injection): a cell that starts as a formula would is kept as text.

use std::borrow::Cow;
use std::io::Write;

use crate::{Error, Result};

/// A CSV file being written: a header, then rows, every cell defused.
#[derive(Debug)]
pub struct Sheet<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> Sheet<W> {
    /// A sheet that starts with `header`.
    pub fn new<I, S>(out: W, header: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut sheet = Self {
            csv: csv::Writer::from_writer(out),
        };
        sheet.row(header)?;
        Ok(sheet)
    }

    pub fn row<I, S>(&mut self, cells: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.csv
            .write_record(
                cells
                    .into_iter()
                    .map(|cell| defused(cell.as_ref()).into_owned()),
            )
            .map_err(failed)
    }

    /// Flushes what is written, and gives the output back.
    pub fn finish(self) -> Result<W> {
        self.csv
            .into_inner()
            .map_err(|e| Error::encoding("writing CSV", e.into_error()))
    }
}

fn failed(error: csv::Error) -> Error {
    Error::encoding("writing CSV", error)
}

/// `text` as a spreadsheet should show it. A cell starting with `=`, `+`, `-` or `@` (or
/// their full-width forms, which Japanese input gives), or with a tab or carriage return,
/// is read as a formula by Excel, LibreOffice or Google Sheets; it gets a leading `'`,
/// which they show as text.
pub fn defused(text: &str) -> Cow<'_, str> {
    const STARTS_A_FORMULA: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
    if text.starts_with(STARTS_A_FORMULA) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_run_as_formulas_are_kept_as_text_and_others_are_untouched() {
        for formula in [
            "=HYPERLINK(\"https://evil.example\",\"open\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "＝1+1",
        ] {
            assert_eq!(defused(formula), format!("'{formula}"), "{formula:?}");
        }
        for text in [
            "Yuki",
            "田中 花子",
            "2026-12-07T05:00:00Z",
            "",
            "a=b",
            "1-2",
        ] {
            assert_eq!(defused(text), text);
        }
    }

    #[test]
    fn every_cell_and_the_header_go_through_it() {
        let mut sheet = Sheet::new(Vec::new(), ["name", "=note"]).unwrap();
        sheet.row(["=cmd|' /C calc'!A0", "fine"]).unwrap();
        let written = String::from_utf8(sheet.finish().unwrap()).unwrap();
        assert_eq!(written, "name,'=note\n'=cmd|' /C calc'!A0,fine\n");
    }
}
