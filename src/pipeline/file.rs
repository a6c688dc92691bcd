//! Reading a pipeline file: the `blocks:` list, each block's id, type, params and input
//! wires, with variables substituted and parameter sets included. Nothing here knows what a
//! block type is; checking types, params and wires against the registry is
//! [`validate`](super::validate)'s work.

use super::diagnostic::{suggestion, Diagnostics};
use super::vars::Vars;
use super::yaml::{self, Kind, Node, Pos};
use std::path::{Path, PathBuf};

/// An input wire: `port: block/output`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    /// The input port of the block that receives.
    pub port: String,
    /// Where the port is named.
    pub pos: Pos,
    /// The block that sends.
    pub from_block: String,
    /// Its output port.
    pub from_port: String,
    /// Where the source is named.
    pub from_pos: Pos,
}

/// One block as written in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockSpec {
    /// Unique id.
    pub id: String,
    /// Where the block's entry starts.
    pub pos: Pos,
    /// Type name, looked up in the registry.
    pub type_name: String,
    /// Where the type is written.
    pub type_pos: Pos,
    /// Parameters: a mapping with variables substituted and includes merged (empty when the
    /// block has none).
    pub params: Node,
    /// Input wires, in file order.
    pub inputs: Vec<InputSpec>,
}

/// A pipeline file as read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PipelineSpec {
    /// The blocks in file order.
    pub blocks: Vec<BlockSpec>,
}

const TOP_KEYS: [&str; 2] = ["blocks", "description"];
const BLOCK_KEYS: [&str; 4] = ["id", "type", "params", "inputs"];

/// Reads the pipeline at `path`. Every problem found is in the diagnostics; the spec holds
/// the blocks that could be read (check the diagnostics before using it).
pub fn load(path: &Path, vars: &Vars) -> (PipelineSpec, Diagnostics) {
    let mut reader = Reader {
        vars,
        diags: Diagnostics {
            files: vec![path.to_path_buf()],
            ..Default::default()
        },
        include_stack: Vec::new(),
    };
    let spec = reader.read_main(path);
    (spec, reader.diags)
}

struct Reader<'a> {
    vars: &'a Vars,
    diags: Diagnostics,
    /// Files being included, outermost first (to report include loops).
    include_stack: Vec<PathBuf>,
}

fn start(file: usize) -> Pos {
    Pos {
        file,
        line: 1,
        col: 1,
    }
}

impl Reader<'_> {
    /// Reads and parses file number `file`; `None` (with a diagnostic at `at`) when it cannot.
    fn parse_file(&mut self, file: usize, at: Pos, block: Option<&str>) -> Option<Node> {
        let path = self.diags.files[file].clone();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.diags
                    .push(at, block, format!("cannot read `{}`: {e}", path.display()));
                return None;
            }
        };
        match yaml::parse(&text, file) {
            Ok(Some(root)) => Some(root),
            Ok(None) => {
                self.diags.push(
                    start(file),
                    block,
                    "the file is empty: expected a mapping (a pipeline starts with `blocks:`)",
                );
                None
            }
            Err(e) => {
                let near = block
                    .map(str::to_string)
                    .or_else(|| block_before(&text, e.pos.line));
                self.diags.push(
                    e.pos,
                    near.as_deref(),
                    format!("not valid YAML: {}", e.message),
                );
                None
            }
        }
    }

    fn read_main(&mut self, path: &Path) -> PipelineSpec {
        let mut spec = PipelineSpec::default();
        self.include_stack.push(canonical(path));
        let Some(root) = self.parse_file(0, start(0), None) else {
            return spec;
        };
        let Some(entries) = root.as_map() else {
            self.diags.push(
                root.pos,
                None,
                format!(
                    "expected a mapping with a `blocks:` list, found {}",
                    root.kind_name()
                ),
            );
            return spec;
        };
        for (k, _) in entries {
            let key = k.as_str().unwrap_or_default();
            if !TOP_KEYS.contains(&key) {
                self.diags.push(
                    k.pos,
                    None,
                    format!("unknown top-level key `{key}`{}", suggestion(key, TOP_KEYS)),
                );
            }
        }
        let Some(blocks) = root.get("blocks") else {
            self.diags.push(
                root.pos,
                None,
                "no `blocks:` list: a pipeline needs at least one block",
            );
            return spec;
        };
        let Kind::Seq(items) = &blocks.kind else {
            self.diags.push(
                blocks.pos,
                None,
                format!(
                    "`blocks:` must be a list of blocks, found {}",
                    blocks.kind_name()
                ),
            );
            return spec;
        };
        if items.is_empty() {
            self.diags.push(blocks.pos, None, "`blocks:` is empty");
        }
        for item in items {
            if let Some(b) = self.read_block(item) {
                spec.blocks.push(b);
            }
        }
        spec
    }

    fn read_block(&mut self, item: &Node) -> Option<BlockSpec> {
        let Some(entries) = item.as_map() else {
            self.diags.push(
                item.pos,
                None,
                format!(
                    "a block must be a mapping with `id` and `type`, found {}",
                    item.kind_name()
                ),
            );
            return None;
        };
        let id = match item.get("id").and_then(Node::as_str) {
            Some(id) if valid_id(id) => id.to_string(),
            Some(id) => {
                self.diags.push(
                    item.get("id").map_or(item.pos, |n| n.pos),
                    Some(id),
                    "a block id is letters, digits, `_` and `-` (it is used in wires `block/port`)",
                );
                return None;
            }
            None => {
                self.diags.push(item.pos, None, "block without an `id`");
                return None;
            }
        };
        let block = Some(id.as_str());
        for (k, _) in entries {
            let key = k.as_str().unwrap_or_default();
            if !BLOCK_KEYS.contains(&key) {
                self.diags.push(
                    k.pos,
                    block,
                    format!(
                        "unknown key `{key}` in a block{}",
                        suggestion(key, BLOCK_KEYS)
                    ),
                );
            }
        }
        let (type_name, type_pos) = match item.get("type") {
            Some(t) if t.as_str().is_some_and(|s| !s.is_empty()) => {
                (t.as_str().unwrap_or_default().to_string(), t.pos)
            }
            _ => {
                self.diags.push(item.pos, block, "block without a `type`");
                return None;
            }
        };
        let params = match item.get("params") {
            None => Node {
                pos: item.pos,
                kind: Kind::Map(Vec::new()),
            },
            Some(p) => {
                let mut p = p.clone();
                if matches!(&p.kind, Kind::Scalar { text, quoted: false } if text.is_empty()) {
                    p.kind = Kind::Map(Vec::new());
                }
                self.substitute(&mut p, &id);
                self.include_params(p, &id)
            }
        };
        let inputs = self.read_inputs(item.get("inputs"), &id);
        Some(BlockSpec {
            id,
            pos: item.pos,
            type_name,
            type_pos,
            params,
            inputs,
        })
    }

    fn read_inputs(&mut self, node: Option<&Node>, id: &str) -> Vec<InputSpec> {
        let mut inputs = Vec::new();
        let Some(node) = node else {
            return inputs;
        };
        let Some(entries) = node.as_map() else {
            if node.as_str() != Some("") {
                self.diags.push(
                    node.pos,
                    Some(id),
                    format!(
                        "`inputs:` must be a mapping `port: block/output`, found {}",
                        node.kind_name()
                    ),
                );
            }
            return inputs;
        };
        for (k, v) in entries {
            let port = k.as_str().unwrap_or_default().to_string();
            let mut v = v.clone();
            self.substitute(&mut v, id);
            match v.as_str().and_then(|s| s.split_once('/')) {
                Some((b, p)) if !b.is_empty() && !p.is_empty() => inputs.push(InputSpec {
                    port,
                    pos: k.pos,
                    from_block: b.trim().to_string(),
                    from_port: p.trim().to_string(),
                    from_pos: v.pos,
                }),
                _ => self.diags.push(
                    v.pos,
                    Some(id),
                    format!(
                        "input `{port}` must name its source as `block/output`, found `{}`",
                        v.as_str().unwrap_or(v.kind_name())
                    ),
                ),
            }
        }
        inputs
    }

    /// Substitutes variables in every scalar value (keys are left alone).
    fn substitute(&mut self, node: &mut Node, id: &str) {
        match &mut node.kind {
            // A substituted scalar is typed by its value (`${VOXEL|0.5}` is a number,
            // `${VOXEL|auto}` a word) when it is plain, or when it is nothing but one
            // variable: flow mappings need quotes around `${...}`, and `"${VOXEL|0.5}"`
            // should still be a number. Other quoted text stays a string.
            Kind::Scalar { text, quoted } => match self.vars.substitute(text) {
                Ok((new, true)) => {
                    let t = text.trim();
                    if t.starts_with("${") && t.ends_with('}') && t.matches("${").count() == 1 {
                        *quoted = false;
                    }
                    *text = new;
                }
                Ok((_, false)) => {}
                Err(e) => self.diags.push(node.pos, Some(id), e.to_string()),
            },
            Kind::Seq(items) => items.iter_mut().for_each(|n| self.substitute(n, id)),
            Kind::Map(entries) => entries.iter_mut().for_each(|(_, v)| self.substitute(v, id)),
        }
    }

    /// Merges the parameter sets named by `include:` under the block's own params, which win.
    fn include_params(&mut self, params: Node, id: &str) -> Node {
        let Kind::Map(entries) = params.kind else {
            return params;
        };
        let mut merged: Vec<(Node, Node)> = Vec::new();
        let mut own = Vec::new();
        for (k, v) in entries {
            if k.as_str() != Some("include") {
                own.push((k, v));
                continue;
            }
            let names: Vec<&Node> = match &v.kind {
                Kind::Seq(items) => items.iter().collect(),
                _ => vec![&v],
            };
            for name in names {
                if let Some(set) = self.read_include(name, id) {
                    merge(&mut merged, set);
                }
            }
        }
        merge(&mut merged, own);
        Node {
            pos: params.pos,
            kind: Kind::Map(merged),
        }
    }

    /// Reads one included parameter set (a mapping), recursively including what it includes.
    fn read_include(&mut self, name: &Node, id: &str) -> Option<Vec<(Node, Node)>> {
        let Some(rel) = name.as_str() else {
            self.diags.push(
                name.pos,
                Some(id),
                format!(
                    "`include:` takes a file name or a list of them, found {}",
                    name.kind_name()
                ),
            );
            return None;
        };
        let base = self.diags.files[name.pos.file]
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = base.join(rel);
        let canon = canonical(&path);
        if let Some(i) = self.include_stack.iter().position(|p| *p == canon) {
            let chain: Vec<String> = self.include_stack[i..]
                .iter()
                .chain(std::iter::once(&canon))
                .map(|p| p.display().to_string())
                .collect();
            self.diags.push(
                name.pos,
                Some(id),
                format!("include loop: {}", chain.join(" -> ")),
            );
            return None;
        }
        self.diags.files.push(path);
        let file = self.diags.files.len() - 1;
        let mut root = self.parse_file(file, name.pos, Some(id))?;
        if root.as_map().is_none() {
            self.diags.push(
                root.pos,
                Some(id),
                format!(
                    "an included parameter set must be a mapping, found {}",
                    root.kind_name()
                ),
            );
            return None;
        }
        self.substitute(&mut root, id);
        self.include_stack.push(canon);
        let root = self.include_params(root, id);
        self.include_stack.pop();
        match root.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// Adds `entries` to `into`, replacing entries of the same key.
fn merge(into: &mut Vec<(Node, Node)>, entries: Vec<(Node, Node)>) {
    for (k, v) in entries {
        into.retain(|(old, _)| old.as_str() != k.as_str());
        into.push((k, v));
    }
}

/// The id of the last block that starts at or before `line` (by its `id:` line), to name the
/// block a syntax error is in when the file cannot be parsed.
fn block_before(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(|l| {
            let l = l.trim_start().trim_start_matches('-').trim_start();
            let id = l.strip_prefix("id:")?.trim();
            let id = id.split('#').next()?.trim().trim_matches(['"', '\'']);
            valid_id(id).then(|| id.to_string())
        })
        .last()
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_blocks_wires_vars_and_includes() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "common.yaml", "a: 1\nb: ${B|two}\n");
        let main = write(
            dir.path(),
            "p.yaml",
            "blocks:\n  - id: src\n    type: reader\n    params: {path: \"${DATASET}\"}\n  \
             - id: f\n    type: filter\n    params:\n      include: common.yaml\n      a: 3\n    \
             inputs:\n      input: src/scans\n  \
             - {id: g, type: t, params: {n: \"${N|0.5}\", s: '0.5', t: \"x${DATASET}\"}}\n",
        );
        let vars = Vars {
            set: [("DATASET".to_string(), "/d".to_string())].into(),
            use_env: false,
        };
        let (spec, diags) = load(&main, &vars);
        assert!(diags.is_empty(), "{diags}");
        assert_eq!(spec.blocks.len(), 3);
        assert_eq!(
            spec.blocks[0].params.to_json(),
            serde_json::json!({"path": "/d"})
        );
        assert_eq!(
            spec.blocks[1].params.to_json(),
            serde_json::json!({"b": "two", "a": 3})
        );
        let wire = &spec.blocks[1].inputs[0];
        assert_eq!(
            (wire.from_block.as_str(), wire.from_port.as_str()),
            ("src", "scans")
        );
        assert_eq!(wire.pos.line, 11);
        assert_eq!(diags.files.len(), 2);
    }

    #[test]
    fn include_loop_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.yaml", "include: b.yaml\n");
        write(dir.path(), "b.yaml", "include: a.yaml\n");
        let main = write(
            dir.path(),
            "p.yaml",
            "blocks:\n  - id: x\n    type: t\n    params: {include: a.yaml}\n",
        );
        let (_, diags) = load(&main, &Vars::default());
        let text = diags.to_string();
        assert!(text.contains("include loop"), "{text}");
        assert!(text.contains("b.yaml:1:10: block `x`"), "{text}");
    }
}
