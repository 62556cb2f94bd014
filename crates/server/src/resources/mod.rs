//! Domain helpers shared by the operation handlers: ARNs, identifiers, time and
//! pagination, plus one module per resource with its stored form and rules.

pub mod arn;
pub mod clock;
pub mod ids;
pub mod pagination;
pub mod stored;
pub mod tags;
