//! Routing: serves a request by the `Route` its path addresses, dispatching by method to the
//! discovery and OpenAPI builders or to the resource handlers.

use http::Method;

use crate::context::Shared;
use crate::discovery;
use crate::error::ApiError;
use crate::handlers;
use crate::openapi;
use crate::paths::{self, Route};
use crate::wire::{self, Body, Request};

/// Serves one request.
pub(crate) async fn dispatch(
    shared: &std::sync::Arc<Shared>,
    req: &Request,
) -> http::Response<Body> {
    match route(shared, req).await {
        Ok(resp) => resp,
        Err(e) => wire::error(&e),
    }
}

async fn route(
    shared: &std::sync::Arc<Shared>,
    req: &Request,
) -> Result<http::Response<Body>, ApiError> {
    let route = {
        let state = shared.state();
        paths::parse(&req.path, &state.registry).ok_or_else(ApiError::no_route)?
    };
    if let Route::Resource(path) = route {
        return handlers::handle(shared, req, path).await;
    }
    if req.method != Method::GET && req.method != Method::HEAD {
        return Err(ApiError::method_not_allowed());
    }
    let state = shared.state();
    let registry = &state.registry;
    let found = |doc: Option<serde_json::Value>| doc.ok_or_else(ApiError::no_route);
    Ok(match route {
        Route::Version => wire::json(200, &discovery::version()),
        Route::Health => wire::text(200, "ok"),
        Route::CoreVersions if discovery::wants_aggregated(&req.accept) => {
            aggregated(&discovery::aggregated(registry, true))
        }
        Route::CoreVersions => wire::json(200, &discovery::core_versions()),
        Route::Groups if discovery::wants_aggregated(&req.accept) => {
            aggregated(&discovery::aggregated(registry, false))
        }
        Route::Groups => wire::json(200, &discovery::group_list(registry)),
        Route::Group(g) => wire::json(200, &found(discovery::group(registry, &g))?),
        Route::Resources { group, version } => wire::json(
            200,
            &found(discovery::resource_list(registry, &group, &version))?,
        ),
        Route::OpenApiIndex => wire::json(200, &openapi::index(registry)),
        Route::OpenApiDocument { group, version } => {
            wire::json(200, &found(openapi::document(registry, &group, &version))?)
        }
        Route::OpenApiV2 => return Err(ApiError::no_route()),
        Route::Resource(_) => unreachable!("handled above"),
    })
}

fn aggregated(doc: &serde_json::Value) -> http::Response<Body> {
    wire::bytes_response(
        200,
        discovery::AGGREGATED_CONTENT_TYPE,
        serde_json::to_vec(doc).unwrap_or_default(),
        &[],
    )
}
