//! Loading a [`Dataset`] from CSV text with a header row.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::Dataset;
use crate::error::{Error, Result};

impl Dataset {
    /// Loads a CSV file with a header row; `target_column` names the target, every other column
    /// is a numeric feature.
    ///
    /// Refused with an error naming the problem: a file that cannot be read ([`Error::Io`]), a
    /// missing header, a target column that is not in the header (the message lists the
    /// columns), an empty cell (a missing value) or a cell that is not a finite number (the
    /// message gives the line, the column and the cell's text).
    pub fn from_csv(path: impl AsRef<Path>, target_column: &str) -> Result<Dataset> {
        Self::from_csv_with_groups(path, target_column, None)
    }

    /// Like [`Dataset::from_csv`], with an optional `group_column` whose cells (any text) become
    /// the rows' group labels: distinct texts are numbered `0, 1, 2…` in order of first
    /// appearance. The group column is not a feature.
    pub fn from_csv_with_groups(
        path: impl AsRef<Path>,
        target_column: &str,
        group_column: Option<&str>,
    ) -> Result<Dataset> {
        let path = path.as_ref();
        let file = std::fs::File::open(path)
            .map_err(|e| Error::Io { path: path.display().to_string(), message: e.to_string() })?;
        Self::from_csv_reader_with_groups(file, target_column, group_column)
    }

    /// Like [`Dataset::from_csv`], reading CSV text from any reader (a string's bytes, a
    /// decompressor, a network stream).
    pub fn from_csv_reader<R: Read>(reader: R, target_column: &str) -> Result<Dataset> {
        Self::from_csv_reader_with_groups(reader, target_column, None)
    }

    /// Like [`Dataset::from_csv_with_groups`], reading from any reader.
    pub fn from_csv_reader_with_groups<R: Read>(
        reader: R,
        target_column: &str,
        group_column: Option<&str>,
    ) -> Result<Dataset> {
        let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| Error::InvalidData(format!("cannot read the CSV header row: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if header.is_empty() || header.iter().all(String::is_empty) {
            return Err(Error::InvalidData(
                "the CSV has no header row; the first line must name the columns".into(),
            ));
        }
        for (j, h) in header.iter().enumerate() {
            if let Some(first) = header[..j].iter().position(|other| other == h) {
                return Err(Error::InvalidData(format!(
                    "the CSV header names column '{h}' twice (columns {first} and {j}); give \
                     every column a distinct name"
                )));
            }
        }
        let find = |name: &str, role: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| {
                Error::InvalidData(format!(
                    "{role} column '{name}' is not in the CSV header; the columns are: {}",
                    header.join(", ")
                ))
            })
        };
        let target_idx = find(target_column, "target")?;
        let group_idx = match group_column {
            Some(g) => {
                let idx = find(g, "group")?;
                if idx == target_idx {
                    return Err(Error::InvalidData(format!(
                        "column '{g}' cannot be both the target and the group column"
                    )));
                }
                Some(idx)
            }
            None => None,
        };
        let feature_idx: Vec<usize> =
            (0..header.len()).filter(|&j| j != target_idx && Some(j) != group_idx).collect();
        if feature_idx.is_empty() {
            return Err(Error::InvalidData(format!(
                "the CSV has no feature column besides the target '{target_column}'"
            )));
        }

        let mut features = Vec::new();
        let mut target = Vec::new();
        let mut groups = Vec::new();
        // Group texts to numbers in order of first appearance; a BTreeMap, never a HashMap, so
        // nothing depends on hashing.
        let mut group_ids: BTreeMap<String, u64> = BTreeMap::new();
        for (row, record) in rdr.records().enumerate() {
            // The header is line 1, so data row 0 is line 2 unless the reader says otherwise.
            let record = record.map_err(|e| {
                Error::InvalidData(format!(
                    "cannot read CSV data row {row} (line {}): {e}",
                    row + 2
                ))
            })?;
            let line = record.position().map_or(row as u64 + 2, |p| p.line());
            if record.len() != header.len() {
                return Err(Error::InvalidData(format!(
                    "line {line} has {} cells but the header has {} columns",
                    record.len(),
                    header.len()
                )));
            }
            let cell = |j: usize| -> Result<f64> {
                let text = record.get(j).unwrap_or("").trim();
                if text.is_empty() {
                    return Err(Error::InvalidData(format!(
                        "missing value at line {line} (data row {row}), column '{}'; fill or drop \
                         the row before loading",
                        header[j]
                    )));
                }
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(v),
                    _ => Err(Error::InvalidData(format!(
                        "cell '{text}' at line {line} (data row {row}), column '{}' is not a \
                         finite number; encode text columns as numbers before loading",
                        header[j]
                    ))),
                }
            };
            for &j in &feature_idx {
                features.push(cell(j)?);
            }
            target.push(cell(target_idx)?);
            if let Some(g) = group_idx {
                let text = record.get(g).unwrap_or("").trim();
                if text.is_empty() {
                    return Err(Error::InvalidData(format!(
                        "missing group label at line {line} (data row {row}), column '{}'",
                        header[g]
                    )));
                }
                let next = group_ids.len() as u64;
                groups.push(*group_ids.entry(text.to_string()).or_insert(next));
            }
        }
        if target.is_empty() {
            return Err(Error::InvalidData(
                "the CSV has a header but no data rows; add at least one row".into(),
            ));
        }
        let names: Vec<String> = feature_idx.iter().map(|&j| header[j].clone()).collect();
        let mut data = Dataset::from_flat(features, names.len(), target)?
            .with_feature_names(names)?
            .with_target_name(target_column);
        if group_idx.is_some() {
            data = data.with_groups(groups)?;
        }
        Ok(data)
    }
}
