//! Checking a pipeline before anything runs, and building its blocks: types exist, params
//! parse, wires join existing ports of the same message type, required inputs are wired,
//! ids are unique, and the graph has no cycle. Every problem is reported, not just the first.

use super::block::Block;
use super::diagnostic::{suggestion, Diagnostics};
use super::file::{BlockSpec, PipelineSpec};
use super::registry::{ParamError, Registry};
use super::yaml::Node;
use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

/// A wire between two built blocks: (block index, output port) to (block index, input port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    /// Sending block and its output port.
    pub from: (usize, String),
    /// Receiving block and its input port.
    pub to: (usize, String),
}

/// A checked pipeline, ready to run.
pub struct Graph {
    /// Block ids, in file order.
    pub ids: Vec<String>,
    /// Block type names, in file order.
    pub types: Vec<String>,
    /// Message counters on (block index, output port), for progress reports.
    pub counters: Vec<(usize, String, Arc<AtomicUsize>)>,
    /// The blocks, in file order.
    pub blocks: Vec<Box<dyn Block>>,
    /// The wires.
    pub wires: Vec<Wire>,
}

impl Graph {
    /// A counter of the messages the first block of type `block_type` sends on `port`
    /// (`None` when the pipeline has no such block).
    pub fn watch(&mut self, block_type: &str, port: &str) -> Option<Arc<AtomicUsize>> {
        let i = self.types.iter().position(|t| t == block_type)?;
        let counter = Arc::new(AtomicUsize::new(0));
        self.counters.push((i, port.to_string(), counter.clone()));
        Some(counter)
    }
}

/// Checks `spec` against `registry` and builds its blocks. `None` when anything is wrong
/// (and then `diags` says what).
pub fn build(spec: &PipelineSpec, registry: &Registry, diags: &mut Diagnostics) -> Option<Graph> {
    let before = diags.items.len();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, b) in spec.blocks.iter().enumerate() {
        if let Some(&first) = index.get(b.id.as_str()) {
            let at = spec.blocks[first].pos.line;
            diags.push(
                b.pos,
                Some(&b.id),
                format!("duplicate block id `{}` (first used on line {at})", b.id),
            );
        } else {
            index.insert(&b.id, i);
        }
    }

    let mut blocks = Vec::new();
    for b in &spec.blocks {
        let ty = match registry.lookup(&b.type_name) {
            Ok(t) => t,
            Err(msg) => {
                diags.push(b.type_pos, Some(&b.id), msg);
                continue;
            }
        };
        match ty.build(&b.params.to_json()) {
            Ok(block) => blocks.push(block),
            Err(e) => report_param_error(diags, b, &e, &ty.param_names()),
        }
    }

    let mut wires = Vec::new();
    for (to, b) in spec.blocks.iter().enumerate() {
        let Some(ty) = registry.get(&b.type_name) else {
            continue;
        };
        for wire in &b.inputs {
            let Some(port) = ty.input_port(&wire.port) else {
                let names = ty.inputs.iter().map(|p| p.name);
                diags.push(
                    wire.pos,
                    Some(&b.id),
                    format!(
                        "`{}` has no input port `{}`{}",
                        b.type_name,
                        wire.port,
                        suggestion(&wire.port, names)
                    ),
                );
                continue;
            };
            let Some(&from) = index.get(wire.from_block.as_str()) else {
                diags.push(
                    wire.from_pos,
                    Some(&b.id),
                    format!(
                        "input `{}` is wired to block `{}`, which does not exist{}",
                        wire.port,
                        wire.from_block,
                        suggestion(&wire.from_block, index.keys().copied())
                    ),
                );
                continue;
            };
            let source = &spec.blocks[from];
            let Some(source_ty) = registry.get(&source.type_name) else {
                continue;
            };
            let Some(out) = source_ty.output_port(&wire.from_port) else {
                let names = source_ty.outputs.iter().map(|p| p.name);
                diags.push(
                    wire.from_pos,
                    Some(&b.id),
                    format!(
                        "block `{}` (`{}`) has no output port `{}`{}",
                        source.id,
                        source.type_name,
                        wire.from_port,
                        suggestion(&wire.from_port, names)
                    ),
                );
                continue;
            };
            if out.message != port.message {
                diags.push(
                    wire.from_pos,
                    Some(&b.id),
                    format!(
                        "type mismatch: input `{}` takes `{}` messages, but `{}/{}` sends `{}`",
                        wire.port, port.message, source.id, out.name, out.message
                    ),
                );
                continue;
            }
            wires.push(Wire {
                from: (from, wire.from_port.clone()),
                to: (to, wire.port.clone()),
            });
        }
        for port in ty.inputs.iter().filter(|p| !p.optional) {
            if !b.inputs.iter().any(|w| w.port == port.name) {
                let candidates: Vec<String> = spec
                    .blocks
                    .iter()
                    .filter(|o| o.id != b.id)
                    .filter_map(|o| {
                        let t = registry.get(&o.type_name)?;
                        let out = t.outputs.iter().find(|p| p.message == port.message)?;
                        Some(format!("`{}/{}`", o.id, out.name))
                    })
                    .collect();
                let hint = if candidates.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", e.g. `{}: {}`",
                        port.name,
                        candidates[0].trim_matches('`')
                    )
                };
                diags.push(
                    b.pos,
                    Some(&b.id),
                    format!(
                        "required input `{}` ({} messages) is not wired; add it under `inputs:`{hint}",
                        port.name, port.message
                    ),
                );
            }
        }
    }

    report_cycles(spec, &index, diags);
    if diags.items.len() > before {
        return None;
    }
    Some(Graph {
        ids: spec.blocks.iter().map(|b| b.id.clone()).collect(),
        types: spec.blocks.iter().map(|b| b.type_name.clone()).collect(),
        counters: Vec::new(),
        blocks,
        wires,
    })
}

fn report_param_error(diags: &mut Diagnostics, b: &BlockSpec, e: &ParamError, names: &[&str]) {
    let node: &Node = b.params.locate(&e.path);
    let within = |p: &[String]| {
        if p.is_empty() {
            String::new()
        } else {
            format!(" `{}`", p.join("."))
        }
    };
    if let Some(field) = e
        .message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        // The path may end at the unknown key itself; the key sits in the mapping above.
        let mut path = e.path.clone();
        if path.last().map(String::as_str) == Some(field) {
            path.pop();
        }
        let e = &ParamError {
            path,
            message: e.message.clone(),
        };
        let node = b.params.locate(&e.path);
        // serde's message lists the expected names; at the top level the schema's do too.
        let pos = node.key_pos(field).unwrap_or(node.pos);
        let hint = if e.path.is_empty() {
            suggestion(field, names.iter().copied())
        } else {
            e.message
                .split_once(", ")
                .map_or(String::new(), |(_, rest)| format!("; {rest}"))
        };
        let place = if e.path.is_empty() {
            String::new()
        } else {
            format!(" in{}", within(&e.path))
        };
        diags.push(
            pos,
            Some(&b.id),
            format!("unknown param `{field}`{place}{hint}"),
        );
        return;
    }
    let what = if e.path.is_empty() {
        "params".to_string()
    } else {
        format!("param{}", within(&e.path))
    };
    diags.push(node.pos, Some(&b.id), format!("{what}: {}", e.message));
}

/// Reports every cycle once, at the first block on it (a self-loop is a cycle of one).
fn report_cycles(spec: &PipelineSpec, index: &HashMap<&str, usize>, diags: &mut Diagnostics) {
    let n = spec.blocks.len();
    let mut succ = vec![Vec::new(); n];
    for (to, b) in spec.blocks.iter().enumerate() {
        for w in &b.inputs {
            if let Some(&from) = index.get(w.from_block.as_str()) {
                succ[from].push(to);
            }
        }
    }
    // 0 unvisited, 1 on the stack, 2 done.
    let mut state = vec![0u8; n];
    let mut stack: Vec<usize> = Vec::new();
    fn visit(
        v: usize,
        succ: &[Vec<usize>],
        state: &mut [u8],
        stack: &mut Vec<usize>,
        cycles: &mut Vec<Vec<usize>>,
    ) {
        state[v] = 1;
        stack.push(v);
        for &w in &succ[v] {
            if state[w] == 1 {
                let start = stack.iter().position(|&x| x == w).unwrap_or(0);
                cycles.push(stack[start..].to_vec());
            } else if state[w] == 0 {
                visit(w, succ, state, stack, cycles);
            }
        }
        stack.pop();
        state[v] = 2;
    }
    let mut cycles = Vec::new();
    for v in 0..n {
        if state[v] == 0 {
            visit(v, &succ, &mut state, &mut stack, &mut cycles);
        }
    }
    for cycle in cycles {
        let first = *cycle.iter().min().unwrap_or(&0);
        let b = &spec.blocks[first];
        let mut names: Vec<&str> = cycle.iter().map(|&i| spec.blocks[i].id.as_str()).collect();
        names.push(spec.blocks[cycle[0]].id.as_str());
        diags.push(
            b.pos,
            Some(&b.id),
            format!(
                "cycle: {} (a block's output cannot feed back into its own inputs)",
                names.join(" -> ")
            ),
        );
    }
}
