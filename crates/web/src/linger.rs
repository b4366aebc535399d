//! Reads the rest of a request's body after its answer, so the client sees the answer.
//!
//! A request refused before its body is read (a session that has ended, a missing CSRF
//! token) is answered at once. If the server then closed the connection with the body
//! still arriving, the client's kernel would get a reset while it sends: a browser shows
//! "connection reset" instead of the page that says why, and sometimes a client loses
//! the answer altogether. Web servers avoid this with a "lingering close"; this layer is
//! ours. It keeps the body the handler left unread and reads it to its end in the
//! background, after the answer has gone out, within a byte bound (only bodies that
//! declare a length up to it) and a time bound. A body over the bound is not read:
//! its connection is closed, as before.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::Response;

/// How long a connection may take to send the rest of a refused body.
const LINGER: Duration = Duration::from_secs(30);

/// The body of one request, shared by the handler and this layer.
struct Shared(Arc<Mutex<Body>>);

impl HttpBody for Shared {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let mut body = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Pin::new(&mut *body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).size_hint()
    }
}

/// The middleware: `most` is the largest declared body it reads to the end.
pub async fn linger(most: u64, request: Request, next: Next) -> Response {
    let declared = request.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // A client that waits for "100 Continue" before it sends the body never sends it
    // once the answer is out: there is nothing to read.
    let expects = request.headers().contains_key(axum::http::header::EXPECT);
    if expects || !declared.is_some_and(|n| n > 0 && n <= most) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let shared = Arc::new(Mutex::new(body));
    let response = next.run(Request::from_parts(parts, Body::new(Shared(Arc::clone(&shared))))).await;
    // A handler that still holds the body (none does today) keeps reading it itself.
    if let Ok(rest) = Arc::try_unwrap(shared) {
        let rest = rest.into_inner().unwrap_or_else(PoisonError::into_inner);
        if !rest.is_end_stream() {
            tokio::spawn(async move {
                let _ = tokio::time::timeout(LINGER, drain(rest)).await;
            });
        }
    }
    response
}

/// Reads a body to its end, keeping nothing.
async fn drain(mut body: Body) {
    while let Some(Ok(_)) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {}
}
