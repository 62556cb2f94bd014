//! One handler per API operation: decode → validate → domain → encode.
//!
//! The list of served operations is written once, as `SERVED_OPERATIONS` in
//! `crates/codegen`; the generated `weir_model::with_served_operations!` hands it to
//! the dispatch here. Each operation is a unit type of `weir_model::operations`
//! implementing [`Handle`], in the file of its resource.

mod blueprints;
mod catalog;
mod connections;
mod crawlers;
mod crawls;
mod job_runs;
mod jobs;
mod partitions;
mod runs;
mod tags;
mod trigger_control;
mod triggers;
mod workflows;

use std::future::Future;

use weir_model::operations::Operation;
use weir_store::Scope;

use crate::app::App;
use crate::protocol;
use weir_resources::ApiError;

/// Per-request state handed to every handler.
pub struct RequestContext {
    /// The application state.
    pub app: App,
    /// The account and region the request acts in.
    pub scope: Scope,
    /// The id answered in `x-amzn-RequestId`.
    pub request_id: String,
}

/// The behaviour of one API operation.
pub trait Handle: Operation {
    /// Performs the operation on validated input. A state-changing handler returns
    /// only after its change is committed.
    fn handle(
        ctx: &RequestContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, ApiError>> + Send;
}

/// Writes [`dispatch`] from the list of served operations.
macro_rules! dispatch_table {
    ($($op:ident),* $(,)?) => {
        /// Runs the served operation `name` on a raw request body. Each operation's
        /// future is boxed at its own size: unboxed, this future would be as large as
        /// the largest of them (about 10 KB), allocated and copied on every request.
        pub async fn dispatch(
            ctx: &RequestContext,
            name: &str,
            body: &[u8],
        ) -> Result<Vec<u8>, ApiError> {
            use weir_model::operations as ops;
            match name {
                $(stringify!($op) => Box::pin(protocol::run::<ops::$op>(ctx, body)).await,)*
                other => Err(protocol::not_implemented(other)),
            }
        }
    };
}

// The one list of served operations is `SERVED_OPERATIONS` in crates/codegen; every
// operation on it must have a `Handle` impl here, or this does not compile.
weir_model::with_served_operations!(dispatch_table);
