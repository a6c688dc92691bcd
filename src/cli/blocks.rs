//! `lidarflow blocks [TYPE]`: every block type with its ports, or one type in full with its
//! params, their defaults and their docs (read from the params' JSON schema).

use crate::blocks::registry;
use crate::error::Result;
use crate::pipeline::{BlockType, PortSpec};
use clap::Args;
use serde_json::Value;
use std::fmt::Write as _;

#[derive(Debug, Args)]
pub(crate) struct BlocksArgs {
    /// A block type to describe in full; without it, every type in short.
    r#type: Option<String>,
}

pub(crate) fn run(args: BlocksArgs) -> Result<i32> {
    let reg = registry();
    let text = match &args.r#type {
        None => {
            let mut s = String::from("Block types (`lidarflow blocks TYPE` for params):\n\n");
            for t in reg.types() {
                let _ = writeln!(s, "{}\n    {}", t.name, t.doc);
                let _ = writeln!(s, "    inputs: {}", ports(&t.inputs));
                let _ = writeln!(s, "    outputs: {}\n", ports(&t.outputs));
            }
            s
        }
        Some(name) => match reg.lookup(name) {
            Ok(t) => describe(t),
            Err(msg) => {
                eprintln!("error: {msg}");
                return Ok(2);
            }
        },
    };
    crate::cli::print(&text);
    Ok(0)
}

fn ports(ports: &[PortSpec]) -> String {
    if ports.is_empty() {
        return "none".into();
    }
    ports
        .iter()
        .map(|p| {
            format!(
                "{} ({}{})",
                p.name,
                p.message,
                if p.optional { ", optional" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The full description of one block type.
pub(crate) fn describe(t: &BlockType) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}\n\n{}\n", t.name, t.doc);
    for (title, list) in [("inputs", &t.inputs), ("outputs", &t.outputs)] {
        let _ = writeln!(s, "{title}:");
        if list.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for p in list.iter() {
            let opt = if p.optional { ", optional" } else { "" };
            let _ = writeln!(s, "  {} ({}{}): {}", p.name, p.message, opt, p.doc);
        }
    }
    let _ = writeln!(s, "\nparams:");
    let schema = t.params.as_value();
    let props = schema.get("properties").and_then(Value::as_object);
    match props {
        None => {
            let _ = writeln!(s, "  none");
        }
        Some(props) if props.is_empty() => {
            let _ = writeln!(s, "  none");
        }
        Some(props) => {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (name, prop) in props {
                let default = match prop.get("default") {
                    Some(d) => format!("default {}", compact(d)),
                    None if required.contains(&name.as_str()) => "required".to_string(),
                    None => "optional".to_string(),
                };
                let _ = writeln!(s, "  {name}: {} ({default})", type_of(prop, schema));
                let doc = prop
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("(undocumented)");
                for line in doc.lines() {
                    let _ = writeln!(s, "      {}", line.trim());
                }
            }
        }
    }
    s
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A short type of a property: its JSON type, or the values an enum allows.
fn type_of(prop: &Value, root: &Value) -> String {
    let resolved = resolve(prop, root);
    if let Some(values) = enum_values(resolved, root) {
        return values.join(" | ");
    }
    if let Some(any) = resolved.get("anyOf").and_then(Value::as_array) {
        let parts: Vec<String> = any
            .iter()
            .map(|v| type_of(v, root))
            .filter(|t| t != "null")
            .collect();
        return parts.join(" | ");
    }
    if let Some(c) = resolved.get("const") {
        return compact(c);
    }
    match resolved.get("type") {
        Some(Value::String(t)) if t == "array" => match resolved.get("items") {
            Some(items) => format!("list of {}", type_of(items, root)),
            None => "list".into(),
        },
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".into(),
    }
}

fn resolve<'a>(v: &'a Value, root: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs")?.get(name))
            .unwrap_or(v),
        None => v,
    }
}

fn enum_values(v: &Value, root: &Value) -> Option<Vec<String>> {
    if let Some(e) = v.get("enum").and_then(Value::as_array) {
        return Some(e.iter().map(compact).collect());
    }
    let one = v.get("oneOf")?.as_array()?;
    let mut out = Vec::new();
    for o in one {
        let o = resolve(o, root);
        if let Some(c) = o.get("const") {
            out.push(compact(c));
        } else if let Some(e) = o.get("enum").and_then(Value::as_array) {
            out.extend(e.iter().map(compact));
        } else {
            return None;
        }
    }
    Some(out)
}
