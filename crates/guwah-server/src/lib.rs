//! guwah's HTTP servers: the routers of `guwah log serve`, `guwah witness
//! serve` and `guwah verifier serve` on axum, and one accept loop over
//! hyper that keeps them answering under slow and idle connections.
//!
//! ```no_run
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! println!("http://{}/", listener.local_addr()?);
//! guwah_server::run(listener, guwah_server::verifier::router(), guwah_server::Limits::default())?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Handlers parse, call the library that decides, and serialise; every
//! failure is an [`AppError`], whose internal variant is logged and never
//! sent. The limits ([`Limits`]) are documented where they are defined.

mod error;
mod limits;
pub mod log;
mod serve;
pub mod team;
pub mod verifier;
pub mod witness;

pub use error::{AppError, TEXT};
pub use limits::Limits;
pub use serve::{
    PeerAddr, TlsConfig, run, run_layered, run_tls, serve, serve_layered, serve_tls, tls_config,
    with_limits,
};

#[cfg(test)]
pub(crate) mod testing {
    //! In-process requests with `tower::ServiceExt::oneshot`.

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Method, Request};
    use axum::response::Response;
    use tower::ServiceExt;

    /// Sends one request through `app`.
    pub async fn request(app: &Router, method: Method, uri: &str, body: Vec<u8>) -> Response {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::from(body))
            .expect("request");
        app.clone().oneshot(req).await.expect("infallible")
    }

    /// A GET of `uri`.
    pub async fn get(app: &Router, uri: &str) -> Response {
        request(app, Method::GET, uri, Vec::new()).await
    }

    /// The whole body.
    pub async fn body_of(r: Response) -> Vec<u8> {
        axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec()
    }
}
