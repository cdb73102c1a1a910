//! The application: the routes of `crate::routes`, the OpenAPI document and its browser, the portal, metrics and
//! health, with request logging, CORS and the envelope on every error. Wiring only: the routes know nothing of the
//! OpenAPI document, which describes them.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::{App, HttpResponse, middleware, web};
use utoipa::OpenApi;

use crate::auth::ACTING_ACCOUNT;
use crate::routes::{accounts, connection, credentials, customers, events, health, pbxs, webhooks};
use crate::{ApiError, AppState};

/// The whole application: routes, request logging and the envelope on every error.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let origins = state.settings.cors_origins.clone();
    App::new()
        .wrap(middleware::from_fn(head_as_get))
        .wrap(middleware::from_fn(strict_head))
        .wrap(crate::envelope_errors())
        .wrap(
            middleware::DefaultHeaders::new()
                .add((header::CACHE_CONTROL, "no-store"))
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
        )
        .wrap(middleware::Condition::new(!origins.is_empty(), cors(&origins)))
        .wrap(middleware::from_fn(crate::log_requests))
        .configure(configure(state))
}

/// CORS for the configured origins only (with none configured, the middleware is not installed at all).
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::HeaderName::from_static("accept-charges"),
            header::HeaderName::from_static(crate::idempotency::IDEMPOTENCY_KEY),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static(crate::idempotency::REPLAYED),
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Registers every route, with `state`, and answers anything else with a 404 in the envelope.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    let metrics_with_api = state.settings.metrics_with_api;
    move |cfg| {
        cfg.app_data(state)
            .service(web::resource("/").route(web::get().to(crate::portal::index)).default_service(allow("GET, HEAD")))
            .route("/portal/app.js", web::get().to(crate::portal::script))
            .route("/portal/app.css", web::get().to(crate::portal::style))
            .route("/portal/config.json", web::get().to(crate::portal::config))
            .route("/portal/dev-token", web::post().to(crate::portal::dev_token))
            .service(
                web::resource("/healthz").route(web::get().to(health::healthz)).default_service(allow("GET, HEAD")),
            )
            .service(web::resource("/readyz").route(web::get().to(health::readyz)).default_service(allow("GET, HEAD")))
            .configure(|cfg| {
                if metrics_with_api {
                    cfg.service(
                        web::resource("/metrics").route(web::get().to(metrics)).default_service(allow("GET, HEAD")),
                    );
                }
            })
            .route(
                "/api/openapi.json",
                web::get().to(|| async {
                    HttpResponse::Ok().content_type(crate::envelope::JSON_UTF8).body(crate::openapi::document())
                }),
            )
            .service(
                web::scope("/api/v1.0")
                    .wrap(middleware::from_fn(crate::rate_limit::limit_rate))
                    .service(
                        web::resource("/accounts")
                            .route(web::get().to(accounts::list))
                            .route(web::post().to(accounts::create))
                            .default_service(allow("GET, HEAD, POST")),
                    )
                    .service(
                        web::resource("/accounts/{account_id}")
                            .route(web::get().to(accounts::get))
                            .route(web::patch().to(accounts::patch))
                            .route(web::delete().to(accounts::delete))
                            .default_service(allow("GET, HEAD, PATCH, DELETE")),
                    )
                    .service(
                        web::resource("/events").route(web::get().to(events::feed)).default_service(allow("GET, HEAD")),
                    )
                    .service(
                        web::resource("/accounts/{account_id}/metrics")
                            .route(web::get().to(accounts::metrics))
                            .default_service(allow("GET, HEAD")),
                    )
                    .configure(customer_routes)
                    // The same routes, acting as an account of the enterprise tier (see `Caller`): one
                    // implementation for both families.
                    .service(web::scope(&format!("/accounts/{{{ACTING_ACCOUNT}}}")).configure(customer_routes)),
            )
            // The docs page's address as people write it, without the slash its relative assets need.
            .service(web::resource("/api/docs").route(web::get().to(docs_with_slash)))
            // After the API: its pattern is a regular expression, which every API request would run first.
            .service(
                utoipa_swagger_ui::SwaggerUi::new("/api/docs/{_:.*}")
                    .url("/api/openapi.json", crate::openapi::ApiDoc::openapi()),
            )
            .default_service(web::to(not_found));
    }
}

/// The customer and profile routes of a reseller tenant, under `/api/v1.0` and under an account prefix.
fn customer_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/customers")
            .route(web::get().to(customers::list))
            .route(web::post().to(customers::create))
            .default_service(allow("GET, HEAD, POST")),
    )
    .service(
        web::resource("/customers/{customer_id}")
            .route(web::get().to(customers::get))
            .route(web::patch().to(customers::patch))
            .route(web::delete().to(customers::delete))
            .default_service(allow("GET, HEAD, PATCH, DELETE")),
    )
    .service(
        web::resource("/customers/{customer_id}/pbxs")
            .route(web::get().to(pbxs::list))
            .route(web::post().to(pbxs::create))
            .default_service(allow("GET, HEAD, POST")),
    )
    // Before `{pbx_id}`, which would take `check` for an id.
    .service(
        web::resource("/customers/{customer_id}/pbxs/check")
            .route(web::post().to(connection::check_new))
            .default_service(allow("POST")),
    )
    .service(
        web::resource("/customers/{customer_id}/pbxs/{pbx_id}")
            .route(web::get().to(pbxs::get))
            .route(web::patch().to(pbxs::patch))
            .route(web::delete().to(pbxs::delete))
            .default_service(allow("GET, HEAD, PATCH, DELETE")),
    )
    .service(
        web::resource("/customers/{customer_id}/pbxs/{pbx_id}/check")
            .route(web::post().to(connection::check))
            .default_service(allow("POST")),
    )
    .service(
        web::resource("/customers/{customer_id}/pbxs/{pbx_id}/connection/collector")
            .route(web::put().to(connection::report))
            .default_service(allow("PUT")),
    )
    .service(
        web::resource("/customers/{customer_id}/pbxs/{pbx_id}/credentials")
            .route(web::get().to(credentials::credentials))
            .default_service(allow("GET, HEAD")),
    )
    .service(web::resource("/pbxs").route(web::get().to(pbxs::lookup)).default_service(allow("GET, HEAD")))
    .service(
        web::resource("/webhooks")
            .route(web::get().to(webhooks::list))
            .route(web::post().to(webhooks::create))
            .default_service(allow("GET, HEAD, POST")),
    )
    .service(
        web::resource("/webhooks/{webhook_id}")
            .route(web::get().to(webhooks::get))
            .route(web::patch().to(webhooks::patch))
            .route(web::delete().to(webhooks::delete))
            .default_service(allow("GET, HEAD, PATCH, DELETE")),
    )
    .service(
        web::resource("/webhooks/{webhook_id}/deliveries")
            .route(web::get().to(webhooks::deliveries))
            .default_service(allow("GET, HEAD")),
    )
    .service(
        web::resource("/webhooks/{webhook_id}/deliveries/{event_id}/retry")
            .route(web::post().to(webhooks::retry))
            .default_service(allow("POST")),
    )
    .service(
        web::resource("/webhooks/{webhook_id}/ping")
            .route(web::post().to(webhooks::ping))
            .default_service(allow("POST")),
    )
    .service(
        web::resource("/webhooks/{webhook_id}/secret")
            .route(web::post().to(webhooks::rotate))
            .default_service(allow("POST")),
    );
}

/// `GET /api/docs`: 308 to `/api/docs/`, the docs page.
async fn docs_with_slash() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((actix_web::http::header::LOCATION, "/api/docs/")).finish()
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// `GET /metrics`: the OpenMetrics text format, which Prometheus reads.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type(crate::metrics::CONTENT_TYPE).body(state.metrics.render())
}

/// `HEAD` is answered wherever `GET` is (RFC 9110 §9.3.2): routed as the `GET`, whose answer then goes out without
/// its body — actix-http remembers that the request was a `HEAD` and sends the head alone, `Content-Length`
/// included.
async fn head_as_get(
    mut req: ServiceRequest,
    next: middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// What a strict origin server refuses of a head that actix-http lets through: an `Expect` other than
/// `100-continue` (RFC 9110 §10.1.1: 417), and a target in absolute form whose scheme is not `http` or `https`
/// (RFC 9112 §3.2.2: this server is the origin of http(s) resources only; 400). A bare LF as a line's end is
/// kept: RFC 9112 §2.2 lets a recipient read it as one (docs/security.md).
async fn strict_head(
    req: ServiceRequest,
    next: middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let expects = req.headers().get_all(header::EXPECT).any(|value| {
        !value.to_str().is_ok_and(|value| value.split(',').all(|v| v.trim().eq_ignore_ascii_case("100-continue")))
    });
    if expects {
        return Err(ApiError::ExpectationFailed.into());
    }
    if req
        .uri()
        .scheme_str()
        .is_some_and(|scheme| !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https"))
    {
        return Err(ApiError::BadRequest(
            "The request target names a scheme other than http or https; this server serves neither.".to_owned(),
        )
        .into());
    }
    next.call(req).await
}

/// The answer to a method a resource does not have: 405 with `Allow`.
fn allow(methods: &'static str) -> actix_web::Route {
    web::to(move || async move { Err::<HttpResponse, ApiError>(ApiError::MethodNotAllowed(methods)) })
}
