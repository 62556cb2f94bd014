//! Typed view of the parts of a botocore `service-2.json` the generator uses.
//! Maps whose order matters (shapes, operations, members) keep the order of
//! the file.

use std::collections::BTreeSet;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};

/// A JSON object kept in file order.
#[derive(Debug, Clone)]
pub struct OrderedMap<T>(pub Vec<(String, T)>);

impl<T> Default for OrderedMap<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> OrderedMap<T> {
    /// Looks up a key.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Iterates in file order.
    pub fn iter(&self) -> impl Iterator<Item = &(String, T)> {
        self.0.iter()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrderedMap<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OrderedMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// The whole service model.
#[derive(Debug, Deserialize)]
pub struct Model {
    /// Operations by name.
    pub operations: OrderedMap<Operation>,
    /// Shapes by name.
    pub shapes: OrderedMap<Shape>,
}

impl Model {
    /// The shape `name`, which the model must define.
    pub fn shape(&self, name: &str) -> anyhow::Result<&Shape> {
        use anyhow::Context;
        self.shapes
            .get(name)
            .with_context(|| format!("shape {name} not in model"))
    }

    /// Every shape reachable from `roots` (members in [`crate::OPAQUE_MEMBERS`] are
    /// not followed).
    pub fn reachable(&self, roots: Vec<String>) -> anyhow::Result<BTreeSet<String>> {
        use anyhow::Context;
        let mut closure = BTreeSet::new();
        let mut stack = roots;
        while let Some(name) = stack.pop() {
            if !closure.insert(name.clone()) {
                continue;
            }
            let s = self.shape(&name)?;
            match s.ty.as_str() {
                "structure" if !s.document => {
                    for (m, r) in s.members.iter() {
                        if !is_opaque(&name, m) {
                            stack.push(r.shape.clone());
                        }
                    }
                }
                "list" => stack.push(s.member.as_ref().context("list member")?.shape.clone()),
                "map" => {
                    stack.push(s.key.as_ref().context("map key")?.shape.clone());
                    stack.push(s.value.as_ref().context("map value")?.shape.clone());
                }
                _ => {}
            }
        }
        Ok(closure)
    }
}

/// Whether `structure.member` is one of [`crate::OPAQUE_MEMBERS`] (any JSON).
pub fn is_opaque(structure: &str, member: &str) -> bool {
    crate::OPAQUE_MEMBERS
        .iter()
        .any(|(s, m)| *s == structure && *m == member)
}

/// One operation.
#[derive(Debug, Deserialize)]
pub struct Operation {
    /// Input shape.
    pub input: Option<ShapeRef>,
    /// Output shape.
    pub output: Option<ShapeRef>,
    /// HTML documentation.
    pub documentation: Option<String>,
}

/// A reference to a shape (operation input/output, member, list member...).
#[derive(Debug, Clone, Deserialize)]
pub struct ShapeRef {
    /// Target shape name.
    pub shape: String,
    /// HTML documentation of the member.
    pub documentation: Option<String>,
}

/// A shape definition.
#[derive(Debug, Deserialize)]
pub struct Shape {
    /// botocore type (`structure`, `string`, `list`, ...).
    #[serde(rename = "type")]
    pub ty: String,
    /// Structure members.
    #[serde(default)]
    pub members: OrderedMap<ShapeRef>,
    /// Required structure members.
    #[serde(default)]
    pub required: Vec<String>,
    /// List member.
    pub member: Option<ShapeRef>,
    /// Map key.
    pub key: Option<ShapeRef>,
    /// Map value.
    pub value: Option<ShapeRef>,
    /// `min` constraint.
    pub min: Option<serde_json::Number>,
    /// `max` constraint.
    pub max: Option<serde_json::Number>,
    /// `pattern` constraint (Java regex syntax).
    pub pattern: Option<String>,
    /// `enum` constraint.
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    /// Structure is a Smithy document (free-form JSON).
    #[serde(default)]
    pub document: bool,
    /// Structure is a union.
    #[serde(default)]
    pub union: bool,
    /// HTML documentation.
    pub documentation: Option<String>,
}
