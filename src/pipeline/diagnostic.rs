//! What is wrong with a pipeline file, and where: file, line, column and block.

use super::yaml::Pos;
use std::fmt;
use std::path::PathBuf;

/// One problem found in a pipeline, pointing at its place.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Where (its `file` indexes [`Diagnostics::files`]).
    pub pos: Pos,
    /// The id of the block concerned, when there is one.
    pub block: Option<String>,
    /// What is wrong and, when it can be guessed, what was meant.
    pub message: String,
}

/// Every problem found in a pipeline, with the files they point into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnostics {
    /// The files read, the main pipeline file first, then included files.
    pub files: Vec<PathBuf>,
    /// The problems, in the order found.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a problem.
    pub fn push(&mut self, pos: Pos, block: Option<&str>, message: impl Into<String>) {
        self.items.push(Diagnostic {
            pos,
            block: block.map(str::to_string),
            message: message.into(),
        });
    }

    /// Whether nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            let file = self
                .files
                .get(d.pos.file)
                .map_or_else(|| "<pipeline>".to_string(), |p| p.display().to_string());
            write!(f, "{file}:{}:{}: ", d.pos.line, d.pos.col)?;
            if let Some(b) = &d.block {
                write!(f, "block `{b}`: ")?;
            }
            writeln!(f, "{}", d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The candidate closest to `word` by edit distance, when close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, c)| d <= (c.len().max(word.len()) / 3).max(2))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// ", did you mean `x`?" when a near candidate exists, else "; expected one of: a, b, c".
pub fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str> + Clone) -> String {
    match nearest(word, candidates.clone()) {
        Some(n) => format!("; did you mean `{n}`?"),
        None => {
            let all: Vec<&str> = candidates.into_iter().collect();
            if all.is_empty() {
                " (there are none)".to_string()
            } else {
                format!("; expected one of: {}", all.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_names() {
        let names = ["voxel_downsample", "range_crop", "odometry"];
        assert_eq!(nearest("voxel_downsampel", names), Some("voxel_downsample"));
        assert_eq!(nearest("odometyr", names), Some("odometry"));
        assert_eq!(nearest("writer", names), None);
        assert!(suggestion("writer", names).contains("range_crop"));
    }

    #[test]
    fn display_points_at_file_line_block() {
        let mut d = Diagnostics {
            files: vec![PathBuf::from("p.yaml")],
            ..Default::default()
        };
        d.push(
            Pos {
                file: 0,
                line: 4,
                col: 7,
            },
            Some("odo"),
            "unknown param `x`",
        );
        assert_eq!(
            d.to_string(),
            "p.yaml:4:7: block `odo`: unknown param `x`\n"
        );
    }
}
