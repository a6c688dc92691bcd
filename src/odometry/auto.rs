//! `auto` settings: a parameter either fixed by the user or derived from the measured
//! sensor range and motion by the rule written beside it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value, or `auto` (derived at run time).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Auto {
    /// Derived by the rule documented beside the parameter.
    #[default]
    Auto,
    /// Fixed by the user.
    Value(f64),
}

impl Serialize for Auto {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Auto::Auto => s.serialize_str("auto"),
            Auto::Value(v) => s.serialize_f64(*v),
        }
    }
}

impl<'de> Deserialize<'de> for Auto {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Auto;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or `auto`")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Auto, E> {
                Ok(Auto::Value(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Auto, E> {
                Ok(Auto::Value(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Auto, E> {
                Ok(Auto::Value(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Auto, E> {
                if v == "auto" {
                    Ok(Auto::Auto)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl schemars::JsonSchema for Auto {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Auto".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "a number, or `auto` for the rule written beside the parameter",
            "anyOf": [{"type": "number"}, {"const": "auto"}]
        })
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
