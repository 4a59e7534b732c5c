//! The OpenAPI 3.1 document, derived from the code: the routes and their parameters, bodies
//! and answers come from the handlers' `#[utoipa::path]` attributes and the types'
//! `ToSchema`/`IntoParams` derives; this module adds what every route shares (the bearer
//! scheme and the error answers any request can get).

use utoipa::{
    openapi::{
        path::Operation,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
        ContentBuilder, Ref, RefOr, Response, ResponseBuilder,
    },
    Modify, OpenApi,
};

use super::types::ErrorBody;

/// The document's fixed parts; the router adds the paths.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "paperplane local API",
        version = "1",
        description = "The local HTTP JSON API of a paperplane daemon. It listens on loopback \
            only; the address is in `<home>/api.addr` and the bearer token, new at each start \
            of the daemon, in `<home>/api.token` (mode 0600). Every route needs \
            `Authorization: Bearer <token>`, or the session cookie of the web app the daemon \
            serves at `/` (a browser gets it from a one-time link, `POST /v1/web/link`; a \
            request signed in by cookie that changes something must carry this address as \
            its `Origin`); a request with an `Origin` other than this \
            address or a `Host` that is not loopback is refused (403). Errors are \
            `{\"error\": \"<one line>\"}`. Ids are lowercase hex; peers are libp2p peer ids; \
            times are Unix milliseconds; photos travel as base64 in JSON and are named by \
            their hex SHA-256. Request bodies are JSON objects with exactly the documented \
            fields.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    servers((url = "http://127.0.0.1:7878",
        description = "The default address; see <home>/api.addr for the actual one.")),
    security(("bearer" = [])),
    tags(
        (name = "node"), (name = "profiles"), (name = "feed"), (name = "follows"),
        (name = "messages"), (name = "groups"), (name = "business"), (name = "events"),
        (name = "web")
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerScheme)
)]
pub(crate) struct ApiDoc;

/// Adds the bearer-token security scheme.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        http.description = Some("The token in <home>/api.token.".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// An error answer with the JSON error body.
fn error(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// Adds `code` to `operation` unless it documents it already; if it does, `more` is added to
/// its description.
fn add(operation: &mut Operation, code: &str, description: &str, more: &str) {
    let responses = &mut operation.responses.responses;
    match responses.get_mut(code) {
        Some(RefOr::T(existing)) => {
            if !existing.description.contains(more) {
                existing.description = format!("{} Also: {more}", existing.description);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            responses.insert(code.to_owned(), error(description));
        }
    }
}

/// Adds the error answers that any request of its kind can get to every operation: a wrong
/// token, a foreign origin, a stopped node and a server fault everywhere; a malformed body
/// where there is a body; a malformed parameter where there are parameters.
pub(crate) fn add_shared_responses(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let shape = "A parameter or body not of its documented shape.";
            if operation.request_body.is_some() {
                add(operation, "400", "The body is not well-formed JSON.", shape);
                add(
                    operation,
                    "413",
                    "The body is larger than this route accepts.",
                    "",
                );
                add(
                    operation,
                    "415",
                    "The body is not sent as `application/json`.",
                    "",
                );
                add(
                    operation,
                    "422",
                    "The body is not a JSON object with the documented fields and types \
                     (unknown fields, `null` for a field that is not nullable, a wrong type).",
                    "",
                );
            }
            if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                add(operation, "400", shape, shape);
            }
            add(
                operation,
                "401",
                "Missing or wrong API token (`Authorization: Bearer <token>`).",
                "",
            );
            add(
                operation,
                "403",
                "A foreign `Origin`, or a `Host` that is not loopback: refused whatever the \
                 token.",
                "",
            );
            add(operation, "500", "A fault of the node (store, disk).", "");
            add(operation, "503", "The node is stopping.", "");
        }
    }
}
