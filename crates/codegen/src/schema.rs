//! Generation of `crates/model/src/schema.rs`: the input shapes of the served
//! operations as data (member names, value types, constraints), for code that
//! must produce or inspect request bodies of any operation, such as the fuzzer.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::{Context, Result, bail};

use crate::model::{Model, is_opaque};
use crate::shapes::EMPTY_STRUCT;
use crate::text;
use crate::{BOTOCORE_VERSION, SERVED_OPERATIONS};

/// Name of the table entry of opaque members (any JSON). Not a botocore name.
pub const OPAQUE_SHAPE: &str = "__Opaque";

/// The input shape of `op` (the empty structure when the model names none).
fn input_shape(model: &Model, op: &str) -> Result<String> {
    let def = model
        .operations
        .get(op)
        .with_context(|| format!("operation {op} not in the model"))?;
    Ok(def
        .input
        .as_ref()
        .map_or_else(|| EMPTY_STRUCT.to_owned(), |r| r.shape.clone()))
}

/// Every shape reachable from the served operations' inputs (opaque members not
/// followed), sorted by name.
fn input_closure(model: &Model) -> Result<BTreeSet<String>> {
    let mut roots = Vec::new();
    for op in SERVED_OPERATIONS {
        let input = input_shape(model, op)?;
        if input != EMPTY_STRUCT {
            roots.push(input);
        }
    }
    model.reachable(roots)
}

fn bound_f64(n: &Option<serde_json::Number>) -> String {
    match n {
        None => "None".to_owned(),
        Some(n) => format!("Some({})", text::float_literal(n)),
    }
}

/// The `Shape` expression of the model shape `name`.
fn entry(model: &Model, name: &str) -> Result<String> {
    let s = model.shape(name)?;
    Ok(match s.ty.as_str() {
        "structure" if s.document => "Shape::Document".to_owned(),
        "structure" => {
            let mut members = String::new();
            for (m, r) in s.members.iter() {
                let target = if is_opaque(name, m) {
                    OPAQUE_SHAPE
                } else {
                    r.shape.as_str()
                };
                write!(
                    members,
                    "Member {{ name: {m:?}, shape: {target:?}, required: {} }},",
                    s.required.contains(m)
                )?;
            }
            format!(
                "Shape::Structure {{ members: &[{members}], union: {} }}",
                s.union
            )
        }
        "list" => format!(
            "Shape::List {{ member: {:?}, min: {}, max: {} }}",
            s.member.as_ref().context("list member")?.shape,
            text::bound_u64(name, &s.min)?,
            text::bound_u64(name, &s.max)?
        ),
        "map" => format!(
            "Shape::Map {{ key: {:?}, value: {:?}, min: {}, max: {} }}",
            s.key.as_ref().context("map key")?.shape,
            s.value.as_ref().context("map value")?.shape,
            text::bound_u64(name, &s.min)?,
            text::bound_u64(name, &s.max)?
        ),
        "string" | "blob" => {
            let pattern = match &s.pattern {
                Some(p) if !text::needs_fancy_regex(p) => {
                    format!("Some({:?})", text::translate_pattern(p))
                }
                _ => "None".to_owned(),
            };
            let values: Vec<String> = s
                .enum_values
                .iter()
                .flatten()
                .map(|v| format!("{v:?}"))
                .collect();
            format!(
                "Shape::String {{ min: {}, max: {}, pattern: {pattern}, values: &[{}] }}",
                text::bound_u64(name, &s.min)?,
                text::bound_u64(name, &s.max)?,
                values.join(", ")
            )
        }
        "integer" => format!(
            "Shape::Integer {{ min: {}, max: {} }}",
            text::bound_i64(name, &s.min)?,
            text::bound_i64(name, &s.max)?
        ),
        "long" => format!(
            "Shape::Long {{ min: {}, max: {} }}",
            text::bound_i64(name, &s.min)?,
            text::bound_i64(name, &s.max)?
        ),
        "double" | "float" => format!(
            "Shape::Double {{ min: {}, max: {} }}",
            bound_f64(&s.min),
            bound_f64(&s.max)
        ),
        "boolean" => "Shape::Boolean".to_owned(),
        "timestamp" => "Shape::Timestamp".to_owned(),
        other => bail!("shape {name}: unsupported type {other}"),
    })
}

/// The source of `schema.rs`.
pub fn generate_schema(model: &Model) -> Result<String> {
    let closure = input_closure(model)?;
    for reserved in [OPAQUE_SHAPE, EMPTY_STRUCT] {
        if model.shapes.get(reserved).is_some() {
            bail!("the model has a shape named {reserved}, which the schema reserves");
        }
    }
    let mut entries: Vec<(String, String)> = Vec::new();
    for name in &closure {
        entries.push((name.clone(), entry(model, name)?));
    }
    entries.push((OPAQUE_SHAPE.to_owned(), "Shape::Document".to_owned()));
    entries.push((
        EMPTY_STRUCT.to_owned(),
        "Shape::Structure { members: &[], union: false }".to_owned(),
    ));
    entries.sort();
    let mut out = String::new();
    writeln!(
        out,
        "//! The input shapes of the served operations as data: for each operation its\n\
         //! input shape, and for each shape reachable from those what its JSON looks like\n\
         //! (members, element types, constraints). For code that produces or inspects\n\
         //! request bodies of any operation, such as the edge fuzzer.\n\
         //!\n\
         //! GENERATED by `weir-codegen` from botocore {BOTOCORE_VERSION} `glue-2017-03-31` — do not\n\
         //! edit; regenerate with `cargo run -p weir-codegen`.\n\n\
         /// What a JSON value of one shape looks like on the wire.\n\
         #[derive(Debug, Clone, Copy, PartialEq)]\n\
         pub enum Shape {{\n\
         /// An object with these members (unknown members are ignored).\n\
         Structure {{\n\
         /// The members, in model order.\n\
         members: &'static [Member],\n\
         /// A union: exactly one member is meant to be set.\n\
         union: bool,\n\
         }},\n\
         /// An array of values of the shape `member`.\n\
         List {{\n\
         /// Shape of the elements.\n\
         member: &'static str,\n\
         /// Fewest elements.\n\
         min: Option<u64>,\n\
         /// Most elements.\n\
         max: Option<u64>,\n\
         }},\n\
         /// An object mapping keys of shape `key` to values of shape `value`.\n\
         Map {{\n\
         /// Shape of the keys (a string shape).\n\
         key: &'static str,\n\
         /// Shape of the values.\n\
         value: &'static str,\n\
         /// Fewest entries.\n\
         min: Option<u64>,\n\
         /// Most entries.\n\
         max: Option<u64>,\n\
         }},\n\
         /// A string.\n\
         String {{\n\
         /// Shortest length, in characters.\n\
         min: Option<u64>,\n\
         /// Longest length, in characters.\n\
         max: Option<u64>,\n\
         /// The anchored `regex` every value must match, when the model has one that\n\
         /// the `regex` crate supports.\n\
         pattern: Option<&'static str>,\n\
         /// The allowed values of an enum; empty when any string is allowed.\n\
         values: &'static [&'static str],\n\
         }},\n\
         /// An integer within `i32`.\n\
         Integer {{\n\
         /// Smallest value.\n\
         min: Option<i64>,\n\
         /// Largest value.\n\
         max: Option<i64>,\n\
         }},\n\
         /// An integer within `i64`.\n\
         Long {{\n\
         /// Smallest value.\n\
         min: Option<i64>,\n\
         /// Largest value.\n\
         max: Option<i64>,\n\
         }},\n\
         /// A number.\n\
         Double {{\n\
         /// Smallest value.\n\
         min: Option<f64>,\n\
         /// Largest value.\n\
         max: Option<f64>,\n\
         }},\n\
         /// `true` or `false`.\n\
         Boolean,\n\
         /// A number of seconds since the epoch.\n\
         Timestamp,\n\
         /// Any JSON value, kept as sent (free-form documents and opaque members).\n\
         Document,\n\
         }}\n\n\
         /// One member of a structure.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq)]\n\
         pub struct Member {{\n\
         /// The JSON member name.\n\
         pub name: &'static str,\n\
         /// The shape of its value (a key of [`shape()`]).\n\
         pub shape: &'static str,\n\
         /// Validation reports the member missing when it is absent.\n\
         pub required: bool,\n\
         }}\n\n\
         /// The shape name of opaque members ([`Shape::Document`]).\n\
         pub const OPAQUE: &str = {OPAQUE_SHAPE:?};\n\n\
         /// Each served operation with the name of its input shape, in the order of\n\
         /// `operations::SERVED_OPERATIONS`.\n\
         pub const INPUTS: &[(&str, &str)] = &["
    )?;
    for op in SERVED_OPERATIONS {
        writeln!(out, "({op:?}, {:?}),", input_shape(model, op)?)?;
    }
    writeln!(
        out,
        "];\n\n\
         /// The shape `name`, if it is reachable from an input of a served operation.\n\
         pub fn shape(name: &str) -> Option<&'static Shape> {{\n\
         SHAPES\n\
         .binary_search_by(|(n, _)| (*n).cmp(name))\n\
         .ok()\n\
         .map(|i| &SHAPES[i].1)\n\
         }}\n\n\
         /// Every shape of [`shape()`], sorted by name.\n\
         static SHAPES: &[(&str, Shape)] = &["
    )?;
    for (name, expr) in &entries {
        writeln!(out, "({name:?}, {expr}),")?;
    }
    out.push_str("];\n");
    Ok(out)
}
