//! What every connection and request handler shares: the state lock (registry and store),
//! injected faults, the request log, the shutdown token and the server's tunables.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::faults::Faults;
use crate::hangs::Hangs;
use crate::store::State;
use crate::wire::Request;

/// Tunables of a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub addr: std::net::SocketAddr,
    /// How many changes watches can replay before older resourceVersions get 410 Expired.
    pub history_limit: usize,
    /// How often watches that allow bookmarks get one.
    pub bookmark_interval: Duration,
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Watch duration when the client sends no `timeoutSeconds`.
    pub default_watch_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            history_limit: 10_000,
            bookmark_interval: Duration::from_secs(5),
            max_body_bytes: 3 * 1024 * 1024,
            default_watch_timeout: Duration::from_secs(1800),
        }
    }
}

/// One served request, as `LocalApiServer::requests` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// HTTP method, e.g. `PATCH`.
    pub method: String,
    /// URL path, e.g. `/apis/g/v1/namespaces/default/things/a/status`.
    pub path: String,
    /// Raw query string (may be empty).
    pub query: String,
    /// Response status code (200 for watches, recorded when the stream starts).
    pub code: u16,
    /// The media type of the request body as sent (`application/vnd.kubernetes.protobuf` from
    /// client-go's typed clients), without parameters; empty without a body.
    pub content_type: String,
    /// The media type of the answer, without parameters.
    pub response_type: String,
}

impl RequestRecord {
    /// Whether this request could have changed state (POST, PUT, PATCH, DELETE).
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
    }
}

const MAX_RECORDS: usize = 100_000;

/// State shared by every connection.
#[derive(Debug)]
pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub faults: Mutex<Faults>,
    pub hangs: Mutex<Hangs>,
    pub requests: Mutex<VecDeque<RequestRecord>>,
    pub shutdown: CancellationToken,
    pub config: ServerConfig,
}

/// Locks a mutex, recovering the data if a panicking request poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Locks the registry and store.
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Appends a served request to the log, forgetting the oldest beyond the limit.
    pub fn record(&self, req: &Request, sent_as: &str, response_type: &str, code: u16) {
        let mut log = lock(&self.requests);
        if log.len() >= MAX_RECORDS {
            log.pop_front();
        }
        log.push_back(RequestRecord {
            method: req.method.to_string(),
            path: req.path.clone(),
            query: req.raw_query.clone(),
            code,
            content_type: sent_as.to_owned(),
            response_type: response_type
                .split(';')
                .next()
                .unwrap_or_default()
                .to_owned(),
        });
    }
}
