//! The block types a pipeline can name: for each, its ports with their message types, its
//! params (a serde struct whose JSON schema carries the doc comments and defaults) and how
//! to build it from those params.

use super::block::Block;
use super::diagnostic::suggestion;
use schemars::{JsonSchema, Schema};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// One input or output port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// Port name, as written in wires.
    pub name: &'static str,
    /// Name of the message type it carries; wires join ports of the same type only.
    pub message: &'static str,
    /// What flows through it.
    pub doc: &'static str,
    /// An input that may be left unwired.
    pub optional: bool,
}

/// Why params did not make a block: where inside the params (keys and list indices), and
/// what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError {
    /// Path from the params mapping to the offending value (empty: the params as a whole).
    pub path: Vec<String>,
    /// What is wrong.
    pub message: String,
}

impl ParamError {
    /// An error about the params as a whole.
    pub fn whole(message: impl Into<String>) -> ParamError {
        ParamError {
            path: Vec::new(),
            message: message.into(),
        }
    }

    /// An error about the param `name`.
    pub fn field(name: &str, message: impl Into<String>) -> ParamError {
        ParamError {
            path: vec![name.to_string()],
            message: message.into(),
        }
    }

    /// The same error, found under `prefix` (for params nested in params).
    pub fn under(mut self, prefix: &[String]) -> ParamError {
        let mut path = prefix.to_vec();
        path.append(&mut self.path);
        self.path = path;
        self
    }
}

/// Deserializes params from JSON, reporting the path of the value that fails.
pub fn parse_params<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ParamError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e
            .path()
            .iter()
            .filter_map(|seg| match seg {
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                _ => None,
            })
            .collect();
        ParamError {
            path,
            message: e.into_inner().to_string(),
        }
    })
}

type BuildFn = Box<dyn Fn(&serde_json::Value) -> Result<Box<dyn Block>, ParamError> + Send + Sync>;

/// A block type.
pub struct BlockType {
    /// The name pipeline files use in `type:`.
    pub name: &'static str,
    /// What the block does.
    pub doc: &'static str,
    /// Input ports.
    pub inputs: Vec<PortSpec>,
    /// Output ports.
    pub outputs: Vec<PortSpec>,
    /// JSON schema of the params: names, types, doc comments, defaults.
    pub params: Schema,
    build: BuildFn,
}

impl BlockType {
    /// A block type whose params deserialize into `P`; `build` makes the block from them
    /// (and may refuse values that are well-typed but wrong).
    pub fn new<P, F>(name: &'static str, doc: &'static str, build: F) -> BlockType
    where
        P: DeserializeOwned + JsonSchema,
        F: Fn(P) -> Result<Box<dyn Block>, ParamError> + Send + Sync + 'static,
    {
        BlockType {
            name,
            doc,
            inputs: Vec::new(),
            outputs: Vec::new(),
            params: schemars::schema_for!(P),
            build: Box::new(move |v| build(parse_params::<P>(v)?)),
        }
    }

    /// A block type whose params are read by `build` from JSON itself, documented by
    /// `params` (for params that one serde struct cannot describe).
    pub fn custom<F>(name: &'static str, doc: &'static str, params: Schema, build: F) -> BlockType
    where
        F: Fn(&serde_json::Value) -> Result<Box<dyn Block>, ParamError> + Send + Sync + 'static,
    {
        BlockType {
            name,
            doc,
            inputs: Vec::new(),
            outputs: Vec::new(),
            params,
            build: Box::new(build),
        }
    }

    /// Adds a required input port.
    pub fn input(mut self, name: &'static str, message: &'static str, doc: &'static str) -> Self {
        self.inputs.push(PortSpec {
            name,
            message,
            doc,
            optional: false,
        });
        self
    }

    /// Adds an input port that may be left unwired.
    pub fn optional_input(
        mut self,
        name: &'static str,
        message: &'static str,
        doc: &'static str,
    ) -> Self {
        self.inputs.push(PortSpec {
            name,
            message,
            doc,
            optional: true,
        });
        self
    }

    /// Adds an output port.
    pub fn output(mut self, name: &'static str, message: &'static str, doc: &'static str) -> Self {
        self.outputs.push(PortSpec {
            name,
            message,
            doc,
            optional: false,
        });
        self
    }

    /// Builds a block from its params (JSON, as read from the file).
    pub fn build(&self, params: &serde_json::Value) -> Result<Box<dyn Block>, ParamError> {
        (self.build)(params)
    }

    /// The names of the top-level params.
    pub fn param_names(&self) -> Vec<&str> {
        self.params
            .get("properties")
            .and_then(|p| p.as_object())
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The input port called `name`.
    pub fn input_port(&self, name: &str) -> Option<&PortSpec> {
        self.inputs.iter().find(|p| p.name == name)
    }

    /// The output port called `name`.
    pub fn output_port(&self, name: &str) -> Option<&PortSpec> {
        self.outputs.iter().find(|p| p.name == name)
    }
}

/// Every block type a pipeline may use, by name.
#[derive(Default)]
pub struct Registry {
    types: BTreeMap<&'static str, BlockType>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a block type (replacing one of the same name).
    pub fn register(&mut self, block: BlockType) -> &mut Self {
        self.types.insert(block.name, block);
        self
    }

    /// The type called `name`.
    pub fn get(&self, name: &str) -> Option<&BlockType> {
        self.types.get(name)
    }

    /// The type called `name`, or a message naming the nearest valid name.
    pub fn lookup(&self, name: &str) -> Result<&BlockType, String> {
        self.get(name).ok_or_else(|| {
            format!(
                "unknown block type `{name}`{}",
                suggestion(name, self.types.keys().copied())
            )
        })
    }

    /// Every type, by name.
    pub fn types(&self) -> impl Iterator<Item = &BlockType> {
        self.types.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test parameter set.
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct P {
        /// A size.
        size: f64,
        /// A list.
        #[serde(default)]
        list: Vec<u32>,
    }

    #[test]
    fn param_errors_carry_their_path() {
        let e = parse_params::<P>(&serde_json::json!({"size": 1.0, "list": [1, "x"]}))
            .err()
            .unwrap();
        assert_eq!(e.path, vec!["list".to_string(), "1".to_string()]);
        let e = parse_params::<P>(&serde_json::json!({"size": 1.0, "sise": 2}))
            .err()
            .unwrap();
        assert!(e.message.contains("unknown field `sise`"), "{}", e.message);
        let e = parse_params::<P>(&serde_json::json!({"size": "big"}))
            .err()
            .unwrap();
        assert_eq!(e.path, vec!["size".to_string()]);
    }
}
