//! A YAML document as a tree whose every node remembers its line and column, so that an
//! error found long after parsing (an unknown parameter, a dangling wire) can still point
//! at the place in the file. Built from `yaml-rust2`'s event parser; scalars keep their
//! source text and style, and are typed (number, bool, null, string) only after variables
//! were substituted.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A place in one of the files of a pipeline: which file (an index into the list of files
/// read, the main file first), line and column, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Index of the file.
    pub file: usize,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node starts.
    pub pos: Pos,
    /// What it holds.
    pub kind: Kind,
}

/// The content of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A scalar: its text, and whether it was quoted (quoted scalars are always strings).
    Scalar {
        /// The text as written (after unescaping).
        text: String,
        /// Written in quotes or as a block scalar.
        quoted: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order: (key node, value node).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The mapping entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The position of `key` itself in this mapping (for "unknown key" errors).
    pub fn key_pos(&self, key: &str) -> Option<Pos> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k.pos)
    }

    /// The node at a path of mapping keys and sequence indices; stops at the deepest node
    /// found, so an error always gets the closest position known.
    pub fn locate(&self, path: &[String]) -> &Node {
        let mut node = self;
        for step in path {
            let next = match &node.kind {
                Kind::Map(_) => node.get(step),
                Kind::Seq(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
                Kind::Scalar { .. } => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }

    /// A short name of the node's kind, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Scalar { .. } => "a scalar",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// The node as JSON, typing plain scalars by YAML 1.2's core schema: `null`/`~`/empty,
    /// `true`/`false`, integers, floats (`.inf`, `.nan` included); anything else, and every
    /// quoted scalar, is a string.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Scalar { text, quoted: true } => Value::String(text.clone()),
            Kind::Scalar {
                text,
                quoted: false,
            } => plain_scalar(text),
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

fn plain_scalar(text: &str) -> serde_json::Value {
    use serde_json::Value;
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    let special = matches!(
        text.trim_start_matches(['+', '-']),
        ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
    );
    // serde_json holds no infinities or NaN: keep them as strings the params reject.
    if !special && text.chars().any(|c| c.is_ascii_digit()) {
        if let Ok(f) = text.parse::<f64>() {
            if f.is_finite() {
                return Value::from(f);
            }
        }
    }
    Value::String(text.to_string())
}

/// A YAML syntax error: where, and what.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// What it found wrong.
    pub message: String,
}

/// Parses the first document of `text`, the file numbered `file`. `Ok(None)` for a file with
/// no document (empty, or only comments).
pub fn parse(text: &str, file: usize) -> Result<Option<Node>, SyntaxError> {
    let mut builder = Builder {
        file,
        ..Builder::default()
    };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| SyntaxError {
        pos: pos(file, e.marker()),
        message: e.info().to_string(),
    })?;
    if let Some((alias_pos, _)) = builder.alias {
        return Err(SyntaxError {
            pos: alias_pos,
            message: "anchors and aliases (`*name`) are not supported in pipeline files; \
                      use `include:` to share parameters"
                .into(),
        });
    }
    Ok(builder.root)
}

fn pos(file: usize, m: &Marker) -> Pos {
    Pos {
        file,
        line: m.line(),
        col: m.col() + 1,
    }
}

#[derive(Default)]
struct Builder {
    file: usize,
    /// Open collections: the node and, for mappings, a pending key.
    stack: Vec<(Node, Option<Node>)>,
    root: Option<Node>,
    alias: Option<(Pos, usize)>,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some((parent, pending)) => match &mut parent.kind {
                Kind::Seq(items) => items.push(node),
                Kind::Map(entries) => match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => entries.push((key, node)),
                },
                Kind::Scalar { .. } => unreachable!("scalars hold no children"),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let p = pos(self.file, &mark);
        match ev {
            Event::Scalar(text, style, _, _) => self.push_value(Node {
                pos: p,
                kind: Kind::Scalar {
                    text,
                    quoted: style != TScalarStyle::Plain,
                },
            }),
            Event::SequenceStart(..) => self.stack.push((
                Node {
                    pos: p,
                    kind: Kind::Seq(Vec::new()),
                },
                None,
            )),
            Event::MappingStart(..) => self.stack.push((
                Node {
                    pos: p,
                    kind: Kind::Map(Vec::new()),
                },
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.stack.pop() {
                    self.push_value(node);
                }
            }
            Event::Alias(id) => {
                self.alias.get_or_insert((p, id));
                self.push_value(Node {
                    pos: p,
                    kind: Kind::Scalar {
                        text: String::new(),
                        quoted: false,
                    },
                });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_types() {
        let text = "# comment\nblocks:\n  - id: a\n    params: {x: 1.5, n: 3, s: '2', b: true}\n";
        let root = parse(text, 0).unwrap().unwrap();
        let blocks = root.get("blocks").unwrap();
        assert_eq!(blocks.pos.line, 3);
        let first = root.locate(&["blocks".into(), "0".into()]);
        assert_eq!(
            first.get("id").unwrap().pos,
            Pos {
                file: 0,
                line: 3,
                col: 9
            }
        );
        let params = first.get("params").unwrap();
        assert_eq!(
            params.to_json(),
            serde_json::json!({"x": 1.5, "n": 3, "s": "2", "b": true})
        );
        assert_eq!(params.key_pos("n").unwrap().line, 4);
    }

    #[test]
    fn empty_and_broken() {
        assert_eq!(parse("", 0).unwrap(), None);
        assert_eq!(parse("# only a comment\n", 0).unwrap(), None);
        let e = parse("blocks: [a, b\n", 0).unwrap_err();
        assert!(e.pos.line >= 1, "{e:?}");
        assert!(parse("a: &x 1\nb: *x\n", 0).is_err());
    }

    #[test]
    fn special_floats_stay_strings() {
        assert_eq!(plain_scalar(".inf"), serde_json::json!(".inf"));
        assert_eq!(plain_scalar("1e3"), serde_json::json!(1000.0));
        assert_eq!(plain_scalar("auto"), serde_json::json!("auto"));
        assert_eq!(plain_scalar("-2"), serde_json::json!(-2));
    }
}
