//! `auto` settings: a parameter either fixed by the user or derived from the measured
//! sensor range and motion by the rule written beside it.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AutoWord {
    Auto,
}

/// A value, or `auto` (derived at run time).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(from = "AutoRepr", into = "AutoRepr")]
pub enum Auto {
    /// Derived by the rule documented beside the parameter.
    #[default]
    Auto,
    /// Fixed by the user.
    Value(f64),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum AutoRepr {
    Word(AutoWord),
    Value(f64),
}

impl From<AutoRepr> for Auto {
    fn from(r: AutoRepr) -> Self {
        match r {
            AutoRepr::Word(_) => Auto::Auto,
            AutoRepr::Value(v) => Auto::Value(v),
        }
    }
}

impl From<Auto> for AutoRepr {
    fn from(a: Auto) -> Self {
        match a {
            Auto::Auto => AutoRepr::Word(AutoWord::Auto),
            Auto::Value(v) => AutoRepr::Value(v),
        }
    }
}

impl Auto {
    /// The fixed value, or `rule()` when `auto`.
    pub fn resolve(self, rule: impl FnOnce() -> f64) -> f64 {
        match self {
            Auto::Auto => rule(),
            Auto::Value(v) => v,
        }
    }
}

impl fmt::Display for Auto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auto::Auto => write!(f, "auto"),
            Auto::Value(v) => write!(f, "{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_or_number_in_yaml() {
        let a: Auto = serde_norway::from_str("auto").unwrap();
        assert_eq!(a, Auto::Auto);
        let v: Auto = serde_norway::from_str("0.5").unwrap();
        assert_eq!(v, Auto::Value(0.5));
        assert!(serde_norway::from_str::<Auto>("automatic").is_err());
        assert_eq!(serde_norway::to_string(&Auto::Auto).unwrap().trim(), "auto");
    }
}
