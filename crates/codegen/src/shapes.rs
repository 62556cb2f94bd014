//! Generation of `crates/model/src/shapes.rs`: the structure closure of the
//! served operations, their Rust types and their `Validate` impls.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::{Context, Result, bail};

use crate::model::{Model, Shape, is_opaque};
use crate::text;
use crate::{BOTOCORE_VERSION, OPAQUE_MEMBERS, SERVED_OPERATIONS};

/// Name of the struct used for an operation without input or output shape.
pub const EMPTY_STRUCT: &str = "EmptyStructure";

/// Names a generated struct must not take (they are used unqualified in the
/// generated code).
const RESERVED: &[&str] = &[
    "Option", "Vec", "String", "Box", "Default", "Clone", "Debug",
];

struct Ctx<'a> {
    model: &'a Model,
    /// Shapes (of any type) in the closure.
    closure: BTreeSet<String>,
    /// Structure shapes to generate, sorted.
    structs: Vec<String>,
    /// Enum shapes (strings with an `enum` constraint) to generate, sorted.
    enums: Vec<String>,
    /// Shapes that carry (possibly nested) constraints.
    needs_check: BTreeSet<String>,
    /// (struct, member) pairs whose field is boxed (direct recursion).
    boxed: BTreeSet<(String, String)>,
    /// Distinct patterns (model text) → static index.
    patterns: BTreeMap<String, usize>,
    /// Patterns that need look-around (skipped, listed in a comment).
    skipped_patterns: BTreeSet<String>,
    /// Whether an empty struct for op without input/output is needed.
    need_empty: bool,
}

impl<'a> Ctx<'a> {
    fn shape(&self, name: &str) -> Result<&'a Shape> {
        self.model.shape(name)
    }

    fn is_struct(&self, name: &str) -> Result<bool> {
        let s = self.shape(name)?;
        Ok(s.ty == "structure" && !s.document)
    }

    /// The model values of `name` when it is an enum shape (a string with an
    /// `enum` constraint), which is generated as a Rust enum.
    fn enum_values(&self, name: &str) -> Result<Option<&'a [String]>> {
        let s = self.shape(name)?;
        Ok(match &s.enum_values {
            Some(values) if s.ty == "string" => Some(values.as_slice()),
            _ => None,
        })
    }

    fn new(model: &'a Model) -> Result<Self> {
        let mut ctx = Ctx {
            model,
            closure: BTreeSet::new(),
            structs: Vec::new(),
            enums: Vec::new(),
            needs_check: BTreeSet::new(),
            boxed: BTreeSet::new(),
            patterns: BTreeMap::new(),
            skipped_patterns: BTreeSet::new(),
            need_empty: false,
        };
        let mut roots = Vec::new();
        for op in SERVED_OPERATIONS {
            let def = model.operations.get(op).context("served op")?;
            match &def.input {
                Some(r) => roots.push(r.shape.clone()),
                None => ctx.need_empty = true,
            }
            match &def.output {
                Some(r) => roots.push(r.shape.clone()),
                None => ctx.need_empty = true,
            }
        }
        ctx.closure = model.reachable(roots)?;
        for (m, s) in OPAQUE_MEMBERS {
            let shape = ctx.shape(m)?;
            if shape.members.get(s).is_none() {
                bail!("opaque member {m}.{s} does not exist");
            }
        }
        for name in &ctx.closure {
            let is_struct = ctx.is_struct(name)?;
            let is_enum = ctx.enum_values(name)?.is_some();
            if (is_struct || is_enum) && (RESERVED.contains(&name.as_str()) || name == EMPTY_STRUCT)
            {
                bail!("shape {name} clashes with a reserved name");
            }
            if is_struct {
                ctx.structs.push(name.clone());
            }
            if is_enum {
                ctx.enums.push(name.clone());
            }
        }
        ctx.compute_needs_check()?;
        ctx.compute_boxed()?;
        ctx.collect_patterns()?;
        Ok(ctx)
    }

    fn own_constraints(s: &Shape) -> bool {
        s.min.is_some() || s.max.is_some() || s.pattern.is_some() || s.enum_values.is_some()
    }

    fn compute_needs_check(&mut self) -> Result<()> {
        loop {
            let mut changed = false;
            for name in &self.closure.clone() {
                if self.needs_check.contains(name) {
                    continue;
                }
                let s = self.shape(name)?;
                let needs = match s.ty.as_str() {
                    "structure" if s.document => false,
                    "structure" => {
                        !s.required.is_empty()
                            || s.members.iter().any(|(m, r)| {
                                !is_opaque(name, m) && self.needs_check.contains(&r.shape)
                            })
                    }
                    "list" => {
                        Self::own_constraints(s)
                            || self
                                .needs_check
                                .contains(&s.member.as_ref().expect("list").shape)
                    }
                    "map" => {
                        Self::own_constraints(s)
                            || self
                                .needs_check
                                .contains(&s.key.as_ref().expect("map").shape)
                            || self
                                .needs_check
                                .contains(&s.value.as_ref().expect("map").shape)
                    }
                    _ => Self::own_constraints(s),
                };
                if needs {
                    self.needs_check.insert(name.clone());
                    changed = true;
                }
            }
            if !changed {
                return Ok(());
            }
        }
    }

    /// Box a struct member whose target structure can reach the containing
    /// structure again through direct (non-collection) struct members.
    fn compute_boxed(&mut self) -> Result<()> {
        let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for name in &self.structs {
            let s = self.shape(name)?;
            let mut out = Vec::new();
            for (m, r) in s.members.iter() {
                if !is_opaque(name, m) && self.is_struct(&r.shape)? {
                    out.push(r.shape.clone());
                }
            }
            edges.insert(name.clone(), out);
        }
        let reaches = |from: &str, to: &str| -> bool {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from.to_owned()];
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                if seen.insert(n.clone()) {
                    stack.extend(edges.get(&n).cloned().unwrap_or_default());
                }
            }
            false
        };
        let mut boxed = BTreeSet::new();
        for name in &self.structs {
            let s = self.shape(name)?;
            for (m, r) in s.members.iter() {
                if !is_opaque(name, m) && self.is_struct(&r.shape)? && reaches(&r.shape, name) {
                    boxed.insert((name.clone(), m.clone()));
                }
            }
        }
        self.boxed = boxed;
        Ok(())
    }

    fn collect_patterns(&mut self) -> Result<()> {
        let mut pats = BTreeSet::new();
        for name in &self.closure {
            if let Some(p) = &self.shape(name)?.pattern {
                pats.insert(p.clone());
            }
        }
        for p in pats {
            if text::needs_fancy_regex(&p) {
                self.skipped_patterns.insert(p);
                continue;
            }
            let translated = text::translate_pattern(&p);
            regex::Regex::new(&translated)
                .with_context(|| format!("pattern {p:?} (as {translated:?}) does not compile"))?;
            let idx = self.patterns.len();
            self.patterns.insert(p, idx);
        }
        Ok(())
    }

    /// Rust type of a reference to `name` (without `Option`).
    fn rust_type(&self, name: &str) -> Result<String> {
        let s = self.shape(name)?;
        Ok(match s.ty.as_str() {
            "string" if s.enum_values.is_some() => name.to_owned(),
            "string" | "blob" => "String".to_owned(),
            "integer" => "i32".to_owned(),
            "long" => "i64".to_owned(),
            "boolean" => "bool".to_owned(),
            "double" | "float" => "f64".to_owned(),
            "timestamp" => "crate::Timestamp".to_owned(),
            "list" => format!(
                "Vec<{}>",
                self.rust_type(&s.member.as_ref().context("list member")?.shape)?
            ),
            "map" => {
                let key = &s.key.as_ref().context("map key")?.shape;
                if self.shape(key)?.ty != "string" {
                    bail!("map {name} has non-string key {key}");
                }
                // An enum-keyed map (ConnectionProperties) keeps its keys as the
                // strings they travel as; they are checked against the enum's values.
                format!(
                    "std::collections::BTreeMap<String, {}>",
                    self.rust_type(&s.value.as_ref().context("map value")?.shape)?
                )
            }
            "structure" if s.document => "serde_json::Value".to_owned(),
            "structure" => name.to_owned(),
            other => bail!("shape {name}: unsupported type {other}"),
        })
    }

    /// Whether the enum shape `name` is referenced only as a map's key: such keys are
    /// strings checked in place (see `rust_type`), so the shape needs no check of its own.
    fn only_map_key(&self, name: &str) -> Result<bool> {
        if self.enum_values(name)?.is_none() {
            return Ok(false);
        }
        let mut as_key = false;
        for other in &self.closure {
            let s = self.shape(other)?;
            let elsewhere = s.members.iter().any(|(_, r)| r.shape == name)
                || s.member.as_ref().is_some_and(|r| r.shape == name)
                || s.value.as_ref().is_some_and(|r| r.shape == name);
            if elsewhere {
                return Ok(false);
            }
            as_key |= s.key.as_ref().is_some_and(|r| r.shape == name);
        }
        Ok(as_key)
    }

    fn check_fn_name(name: &str) -> String {
        format!("check_{}", text::snake_case(name))
    }

    /// Statement validating `var` (a reference to a value of shape `name`)
    /// at the path expression `path` (a `&str` expression).
    fn check_call(&self, name: &str, var: &str, path: &str) -> Result<String> {
        let s = self.shape(name)?;
        let f = Self::check_fn_name(name);
        Ok(match s.ty.as_str() {
            "structure" => format!("{var}.validate_into({path}, errors);"),
            "integer" => format!("{f}(i64::from(*{var}), {path}, errors);"),
            "long" | "double" | "float" => format!("{f}(*{var}, {path}, errors);"),
            _ => format!("{f}({var}, {path}, errors);"),
        })
    }

    fn bound_f64(n: &Option<serde_json::Number>) -> String {
        match n {
            None => "None".to_owned(),
            Some(n) => format!(
                "Some(({}_f64, {:?}))",
                text::float_literal(n),
                n.to_string()
            ),
        }
    }

    /// The private `check_<shape>` function of a non-structure shape.
    fn check_fn(&self, name: &str) -> Result<String> {
        let s = self.shape(name)?;
        let f = Self::check_fn_name(name);
        let mut body = String::new();
        let param = match s.ty.as_str() {
            "string" if s.enum_values.is_some() => {
                // A known value satisfies every constraint of the shape
                // (checked here, at generation), so only an unknown one is
                // checked, with the same statements as a plain string.
                self.check_enum_values(name)?;
                writeln!(
                    body,
                    "if let {name}::Unknown(v) = v {{ {} rt::one_of(v, {name}::VALUES, path, errors); }}",
                    self.string_checks(name)?
                )?;
                format!("&{name}")
            }
            "string" | "blob" => {
                body.push_str(&self.string_checks(name)?);
                "&str".to_owned()
            }
            "integer" | "long" => {
                writeln!(
                    body,
                    "rt::range_i64(v, {}, {}, path, errors);",
                    text::bound_i64(name, &s.min)?,
                    text::bound_i64(name, &s.max)?
                )?;
                "i64".to_owned()
            }
            "double" | "float" => {
                writeln!(
                    body,
                    "rt::range_f64(v, {}, {}, path, errors);",
                    Self::bound_f64(&s.min),
                    Self::bound_f64(&s.max)
                )?;
                "f64".to_owned()
            }
            "list" => {
                let elem = &s.member.as_ref().context("list")?.shape;
                if s.min.is_some() || s.max.is_some() {
                    writeln!(
                        body,
                        "rt::length(v, v.len(), {}, {}, path, errors);",
                        text::bound_u64(name, &s.min)?,
                        text::bound_u64(name, &s.max)?
                    )?;
                }
                if self.needs_check.contains(elem) {
                    writeln!(
                        body,
                        "for (i, item) in v.iter().enumerate() {{ {} }}",
                        self.check_call(elem, "item", "&rt::item(path, i)")?
                    )?;
                }
                format!("&[{}]", self.rust_type(elem)?)
            }
            "map" => {
                let key = &s.key.as_ref().context("map")?.shape;
                let value = &s.value.as_ref().context("map")?.shape;
                if s.min.is_some() || s.max.is_some() {
                    writeln!(
                        body,
                        "rt::length(v, v.len(), {}, {}, path, errors);",
                        text::bound_u64(name, &s.min)?,
                        text::bound_u64(name, &s.max)?
                    )?;
                }
                let key_check = self.needs_check.contains(key);
                let value_check = self.needs_check.contains(value);
                if key_check || value_check {
                    let mut inner = String::new();
                    if key_check && self.enum_values(key)?.is_some() {
                        inner.push_str(&format!(
                            "rt::one_of(key, {key}::VALUES, &rt::map_key(path), errors);"
                        ));
                    } else if key_check {
                        inner.push_str(&self.check_call(key, "key", "&rt::map_key(path)")?);
                    }
                    if value_check {
                        inner.push_str(&self.check_call(
                            value,
                            "item",
                            "&rt::map_value(path, key)",
                        )?);
                    }
                    if value_check {
                        writeln!(body, "for (key, item) in v {{ {inner} }}")?;
                    } else {
                        writeln!(body, "for key in v.keys() {{ {inner} }}")?;
                    }
                }
                format!("&{}", self.rust_type(name)?)
            }
            other => bail!("no check function for {name} ({other})"),
        };
        Ok(format!(
            "fn {f}(v: {param}, path: &str, errors: &mut ValidationErrors) {{\n{body}}}\n\n"
        ))
    }

    /// The length and pattern checks of the string shape `name` on `v`.
    fn string_checks(&self, name: &str) -> Result<String> {
        let s = self.shape(name)?;
        let mut body = String::new();
        if s.min.is_some() || s.max.is_some() {
            writeln!(
                body,
                "rt::str_length(v, {}, {}, path, errors);",
                text::bound_u64(name, &s.min)?,
                text::bound_u64(name, &s.max)?
            )?;
        }
        if let Some(p) = &s.pattern {
            match self.patterns.get(p) {
                Some(idx) => {
                    writeln!(body, "rt::pattern(v, &PATTERN_{idx}, {p:?}, path, errors);")?
                }
                None => writeln!(body, "// Pattern {p:?} needs look-around; not checked.")?,
            }
        }
        Ok(body)
    }

    /// Fails unless every value of the enum shape `name` satisfies the
    /// shape's length and (supported) pattern constraints.
    fn check_enum_values(&self, name: &str) -> Result<()> {
        let s = self.shape(name)?;
        let pattern = match &s.pattern {
            Some(p) if self.patterns.contains_key(p) => {
                Some(regex::Regex::new(&text::translate_pattern(p))?)
            }
            _ => None,
        };
        let min = s.min.as_ref().and_then(serde_json::Number::as_u64);
        let max = s.max.as_ref().and_then(serde_json::Number::as_u64);
        for value in self.enum_values(name)?.unwrap_or_default() {
            let len = value.chars().count() as u64;
            let fits = min.is_none_or(|min| len >= min)
                && max.is_none_or(|max| len <= max)
                && pattern.as_ref().is_none_or(|re| re.is_match(value));
            if !fits {
                bail!("{name}: the model value {value:?} violates the shape's own constraints");
            }
        }
        Ok(())
    }

    /// The Rust enum of the enum shape `name` and its conversions.
    fn enum_def(&self, name: &str) -> Result<String> {
        let s = self.shape(name)?;
        let values = self.enum_values(name)?.context("enum shape")?;
        let mut variants = Vec::new();
        for value in values {
            let variant = text::variant_ident(value)?;
            if variant == "Unknown" || variants.iter().any(|(v, _)| *v == variant) {
                bail!("{name}: the value {value:?} maps to the variant {variant}, which is taken");
            }
            variants.push((variant, value));
        }
        let doc = text::first_sentence(s.documentation.as_deref())
            .unwrap_or_else(|| format!("The `{name}` enumeration."));
        let mut out = String::new();
        writeln!(
            out,
            "/// {doc}\n\
             ///\n\
             /// Travels as its model value; any other string decodes as\n\
             /// [`{name}::Unknown`].\n\
             #[derive(Debug, Clone, PartialEq, Eq, Hash)]\n\
             pub enum {name} {{"
        )?;
        for (variant, value) in &variants {
            writeln!(out, "/// `{value}`\n{variant},")?;
        }
        writeln!(
            out,
            "/// A value this build does not know, kept as sent (a request with one\n\
             /// fails validation).\n\
             Unknown(String),\n\
             }}\n"
        )?;
        let list: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        let mut as_str = String::new();
        let mut from_str = String::new();
        for (variant, value) in &variants {
            writeln!(as_str, "Self::{variant} => {value:?},")?;
            writeln!(from_str, "{value:?} => Self::{variant},")?;
        }
        writeln!(
            out,
            "impl {name} {{\n\
             /// The values of the model, in model order.\n\
             pub const VALUES: &'static [&'static str] = &[{}];\n\n\
             /// The value as it travels on the wire.\n\
             pub fn as_str(&self) -> &str {{\n\
             match self {{\n{as_str}Self::Unknown(value) => value,\n}}\n\
             }}\n\
             }}\n\n\
             impl From<&str> for {name} {{\n\
             fn from(value: &str) -> Self {{\n\
             match value {{\n{from_str}other => Self::Unknown(other.to_owned()),\n}}\n\
             }}\n\
             }}\n\n\
             impl std::fmt::Display for {name} {{\n\
             fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n\
             f.write_str(self.as_str())\n\
             }}\n\
             }}\n\n\
             impl serde::Serialize for {name} {{\n\
             fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n\
             serializer.serialize_str(self.as_str())\n\
             }}\n\
             }}\n\n\
             impl<'de> serde::Deserialize<'de> for {name} {{\n\
             fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n\
             crate::wire_enum::deserialize(deserializer)\n\
             }}\n\
             }}\n",
            list.join(", ")
        )?;
        Ok(out)
    }

    fn struct_def(&self, name: &str) -> Result<String> {
        let s = self.shape(name)?;
        let mut out = String::new();
        let doc = text::first_sentence(s.documentation.as_deref())
            .unwrap_or_else(|| format!("The `{name}` structure."));
        let kind = if s.union {
            " (a union: set exactly one member)"
        } else {
            ""
        };
        writeln!(out, "/// {doc}{kind}")?;
        writeln!(
            out,
            "#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]"
        )?;
        writeln!(out, "pub struct {name} {{")?;
        let mut idents = BTreeSet::new();
        for (m, r) in s.members.iter() {
            let ident = text::field_ident(m);
            if !idents.insert(ident.clone()) {
                bail!("{name}: two members map to field {ident}");
            }
            let opaque = is_opaque(name, m);
            let target = self.shape(&r.shape)?;
            let mut doc = text::first_sentence(r.documentation.as_deref())
                .or_else(|| text::first_sentence(target.documentation.as_deref()))
                .unwrap_or_else(|| format!("The `{m}` member."));
            if s.required.contains(m) {
                doc.push_str(" Required.");
            }
            let ty = if opaque {
                doc.push_str(
                    " Opaque: kept as raw JSON, stored and echoed verbatim, not validated.",
                );
                "serde_json::Value".to_owned()
            } else if self.boxed.contains(&(name.to_owned(), m.clone())) {
                format!("Box<{}>", self.rust_type(&r.shape)?)
            } else {
                self.rust_type(&r.shape)?
            };
            writeln!(out, "/// {doc}")?;
            writeln!(
                out,
                "#[serde(rename = {m:?}, default, skip_serializing_if = \"Option::is_none\")]"
            )?;
            writeln!(out, "pub {ident}: Option<{ty}>,")?;
        }
        writeln!(out, "}}\n")?;

        // Validate impl.
        let mut body = String::new();
        for (m, r) in s.members.iter() {
            let ident = text::field_ident(m);
            let seg = text::lower_camel(m);
            let required = s.required.contains(m);
            let needs = !is_opaque(name, m) && self.needs_check.contains(&r.shape);
            let path = format!("rt::join(path, {seg:?})");
            if needs {
                let call = self.check_call(&r.shape, "v", &format!("&{path}"))?;
                if required {
                    writeln!(
                        body,
                        "match &self.{ident} {{ Some(v) => {{ {call} }} None => errors.push_null({path}), }}"
                    )?;
                } else {
                    writeln!(body, "if let Some(v) = &self.{ident} {{ {call} }}")?;
                }
            } else if required {
                writeln!(
                    body,
                    "if self.{ident}.is_none() {{ errors.push_null({path}); }}"
                )?;
            }
        }
        let (p, e) = if body.is_empty() {
            ("_path", "_errors")
        } else {
            ("path", "errors")
        };
        writeln!(
            out,
            "impl crate::Validate for {name} {{\n\
             fn validate_into(&self, {p}: &str, {e}: &mut ValidationErrors) {{\n{body}}}\n}}\n"
        )?;
        Ok(out)
    }
}

pub fn generate_shapes(model: &Model) -> Result<String> {
    let ctx = Ctx::new(model)?;
    let mut out = String::new();
    writeln!(
        out,
        "//! Glue structure shapes used by the served operations, with their\n\
         //! [`Validate`](crate::Validate) impls.\n\
         //!\n\
         //! GENERATED by `weir-codegen` from botocore {BOTOCORE_VERSION} `glue-2017-03-31` — do not\n\
         //! edit; regenerate with `cargo run -p weir-codegen`.\n\
         //!\n\
         //! Contains every structure shape reachable (transitively) from the input and\n\
         //! output shapes of `operations::SERVED_OPERATIONS`: {} structs. Every field\n\
         //! is an `Option` (required members are enforced by `Validate`, which reports\n\
         //! the AWS `Member must not be null` wording); unknown JSON members are ignored\n\
         //! and `null` reads as `None`.\n\
         //!\n\
         //! Every string shape with an `enum` constraint is a Rust enum ({} enums): one\n\
         //! variant per model value plus `Unknown(String)`, which holds any other string,\n\
         //! so that a stored document or a request with a value this build does not know\n\
         //! still decodes; `Validate` rejects `Unknown` with the AWS enum wording.\n\
         //!\n\
         //! Opaque members (typed as `serde_json::Value`: stored and echoed verbatim,\n\
         //! neither typed nor validated), because the subtree behind them is the\n\
         //! visual-job editor graph, large and never interpreted by Weir:",
        ctx.structs.len(),
        ctx.enums.len()
    )?;
    for (s, m) in OPAQUE_MEMBERS {
        writeln!(out, "//! * `{s}.{m}`")?;
    }
    if !ctx.skipped_patterns.is_empty() {
        writeln!(
            out,
            "//!\n//! Patterns not checked (they need look-around, unsupported by `regex`):"
        )?;
        for p in &ctx.skipped_patterns {
            writeln!(out, "//! * `{p}`")?;
        }
    }
    out.push('\n');
    out.push_str(
        "// Doc comments are the first sentence of the AWS documentation.\n\
         #![allow(clippy::doc_markdown)]\n\n\
         use std::sync::LazyLock;\n\n\
         use regex::Regex;\n\n\
         use crate::Validate as _;\n\
         use crate::ValidationErrors;\n\
         use crate::validate::rt;\n\n",
    );
    if ctx.need_empty {
        writeln!(
            out,
            "/// Input or output of an operation that has none in the model.\n\
             #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]\n\
             pub struct {EMPTY_STRUCT} {{}}\n\n\
             impl crate::Validate for {EMPTY_STRUCT} {{\n\
             fn validate_into(&self, _path: &str, _errors: &mut ValidationErrors) {{}}\n}}\n"
        )?;
    }
    for name in &ctx.structs {
        out.push_str(&ctx.struct_def(name)?);
    }
    out.push_str("// ---- Enums ----\n\n");
    for name in &ctx.enums {
        out.push_str(&ctx.enum_def(name)?);
    }
    out.push_str("// ---- Checks of non-structure shapes ----\n\n");
    for name in &ctx.closure {
        if ctx.needs_check.contains(name) && !ctx.is_struct(name)? && !ctx.only_map_key(name)? {
            out.push_str(&ctx.check_fn(name)?);
        }
    }
    out.push_str("// ---- Patterns (model text translated to `regex`, anchored) ----\n\n");
    let mut by_idx: Vec<(&String, &usize)> = ctx.patterns.iter().collect();
    by_idx.sort_by_key(|(_, i)| **i);
    for (p, idx) in by_idx {
        let translated = text::translate_pattern(p);
        writeln!(
            out,
            "/// `{}`\nstatic PATTERN_{idx}: LazyLock<Regex> = LazyLock::new(|| Regex::new({translated:?}).expect(\"pattern compiles\"));\n",
            p.replace('`', "'")
        )?;
    }
    Ok(out)
}
