//! Variables in pipeline files: `${NAME}` and `${NAME|default}` inside any scalar value,
//! taken from the values given on the command line (`--set NAME=VALUE`, `--dataset`,
//! `--output`) and then from the environment.

use std::collections::BTreeMap;

/// The values variables take.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// Values given explicitly; they win over the environment.
    pub set: BTreeMap<String, String>,
    /// Whether to look names up in the process environment as well.
    pub use_env: bool,
}

/// Why a substitution failed.
#[derive(Debug, Clone, PartialEq)]
pub enum VarError {
    /// `${NAME}` with no value and no default.
    Unset(String),
    /// `${` without its `}`, or an empty or malformed name.
    Malformed(String),
}

impl std::fmt::Display for VarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VarError::Unset(n) => write!(
                f,
                "variable `{n}` is not set and has no default; give it with `--set {n}=VALUE`, \
                 set it in the environment, or write `${{{n}|default}}`"
            ),
            VarError::Malformed(t) => write!(
                f,
                "malformed variable in `{t}`: write `${{NAME}}` or `${{NAME|default}}`"
            ),
        }
    }
}

impl Vars {
    /// Variables from the environment, plus `set`.
    pub fn with_env(set: BTreeMap<String, String>) -> Vars {
        Vars { set, use_env: true }
    }

    /// The value of `name`, if any.
    pub fn get(&self, name: &str) -> Option<String> {
        self.set
            .get(name)
            .cloned()
            .or_else(|| self.use_env.then(|| std::env::var(name).ok()).flatten())
    }

    /// `text` with every `${...}` replaced. Returns whether anything was replaced.
    pub fn substitute(&self, text: &str) -> Result<(String, bool), VarError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut any = false;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| VarError::Malformed(text.to_string()))?;
            let inner = &after[..end];
            let (name, default) = match inner.split_once('|') {
                Some((n, d)) => (n.trim(), Some(d)),
                None => (inner.trim(), None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(VarError::Malformed(text.to_string()));
            }
            match self.get(name).or_else(|| default.map(str::to_string)) {
                Some(v) => out.push_str(&v),
                None => return Err(VarError::Unset(name.to_string())),
            }
            any = true;
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok((out, any))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            set: [("DATASET".to_string(), "/data".to_string())].into(),
            use_env: false,
        }
    }

    #[test]
    fn substitutes_values_and_defaults() {
        let v = vars();
        assert_eq!(
            v.substitute("${DATASET}/x").unwrap(),
            ("/data/x".into(), true)
        );
        assert_eq!(
            v.substitute("${VOXEL|auto}").unwrap(),
            ("auto".into(), true)
        );
        assert_eq!(v.substitute("${DATASET|/other}").unwrap().0, "/data");
        assert_eq!(v.substitute("plain").unwrap(), ("plain".into(), false));
        assert_eq!(v.substitute("${A|}").unwrap().0, "");
    }

    #[test]
    fn unset_and_malformed() {
        let v = vars();
        assert_eq!(v.substitute("${NOPE}"), Err(VarError::Unset("NOPE".into())));
        assert!(matches!(
            v.substitute("${OPEN"),
            Err(VarError::Malformed(_))
        ));
        assert!(matches!(v.substitute("${}"), Err(VarError::Malformed(_))));
        assert!(v
            .substitute("${NOPE}")
            .unwrap_err()
            .to_string()
            .contains("--set NOPE="));
    }
}
