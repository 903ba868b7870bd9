//! Watches: a chunked stream of newline-delimited events. Starts with synthetic ADDED events
//! (resourceVersion "" or "0", or `sendInitialEvents` ending in an `initial-events-end`
//! BOOKMARK) or a replay of retained history (410 Expired in-stream when it is gone), then live
//! changes filtered by namespace and selectors (an object that starts or stops matching arrives
//! as ADDED or DELETED), periodic BOOKMARKs, and an end at `timeoutSeconds`, compaction or
//! shutdown.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::context::Shared;
use crate::error::ApiError;
use crate::objects::{Target, view};
use crate::selectors::{self, FieldSelector, LabelSelector};
use crate::store::{Change, ChangeType};
use crate::table::{self, IncludeObject};
use crate::wire::{Body, Presentation, Request};

/// The longest a watch stays open.
const MAX_WATCH: Duration = Duration::from_secs(24 * 3600);

/// Decides which changes a watch sends and encodes them.
struct Filter {
    target: Target,
    labels: LabelSelector,
    fields: FieldSelector,
    selective: bool,
    presentation: Presentation,
    include: IncludeObject,
}

impl Filter {
    fn in_scope(&self, obj: &Value) -> bool {
        match (&self.target.namespace, self.target.info.namespaced) {
            (Some(ns), true) => {
                obj.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns.as_str())
            }
            _ => true,
        }
    }

    fn matches(&self, obj: &Value) -> bool {
        self.in_scope(obj)
            && (!self.selective || (self.labels.matches(obj) && self.fields.matches(obj)))
    }

    /// The event line for a change, if this watch sends one.
    fn line(&self, change: &Change) -> Option<Bytes> {
        if change.store != self.target.info.store {
            return None;
        }
        let now = view(&self.target.info, &self.target.version, &change.object);
        let matches_now = self.matches(&now);
        let matched_before = change
            .previous
            .as_ref()
            .is_some_and(|p| self.matches(&view(&self.target.info, &self.target.version, p)));
        let type_ = match (change.type_, matched_before, matches_now) {
            (ChangeType::Deleted, before, now) if before || now => ChangeType::Deleted,
            (ChangeType::Deleted, ..) => return None,
            (_, false, true) => ChangeType::Added,
            (_, true, true) => ChangeType::Modified,
            (_, true, false) => ChangeType::Deleted,
            (_, false, false) => return None,
        };
        let shared_encoding = Arc::ptr_eq(&now, &change.object).then(|| change.encoded_object());
        Some(self.encode(type_.as_str(), &now, shared_encoding))
    }

    fn encode(&self, type_: &str, obj: &Arc<Value>, pre_encoded: Option<&Bytes>) -> Bytes {
        let mut out = Vec::with_capacity(pre_encoded.map_or(512, |b| b.len() + 32));
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(type_.as_bytes());
        out.extend_from_slice(b"\",\"object\":");
        match self.presentation {
            Presentation::Object => match pre_encoded {
                Some(bytes) => out.extend_from_slice(bytes),
                None => serde_json::to_writer(&mut out, &**obj).unwrap_or_default(),
            },
            Presentation::Metadata => {
                let md = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata")});
                serde_json::to_writer(&mut out, &md).unwrap_or_default();
            }
            Presentation::Table => {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .cloned()
                    .unwrap_or(Value::Null);
                let t = table::table(
                    &self.target.info,
                    &self.target.version,
                    std::slice::from_ref(obj),
                    json!({"resourceVersion": rv}),
                    self.include,
                    jiff::Timestamp::now(),
                );
                serde_json::to_writer(&mut out, &t).unwrap_or_default();
            }
        }
        out.extend_from_slice(b"}\n");
        Bytes::from(out)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let (kind, api_version) = match self.presentation {
            Presentation::Metadata => (
                "PartialObjectMetadata".to_owned(),
                "meta.k8s.io/v1".to_owned(),
            ),
            _ => (
                self.target.info.kind.clone(),
                self.target.info.api_version(&self.target.version),
            ),
        };
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let event = json!({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": api_version, "metadata": metadata}});
        line(&event)
    }
}

fn line(event: &Value) -> Bytes {
    let mut out = serde_json::to_vec(event).unwrap_or_default();
    out.push(b'\n');
    Bytes::from(out)
}

/// A running watch, driven by the response body.
struct Watch {
    pending: VecDeque<Bytes>,
    filter: Filter,
    changes: Option<broadcast::Receiver<Arc<Change>>>,
    closed: CancellationToken,
    deadline: Instant,
    bookmarks: Option<(Duration, Instant)>,
    /// The newest resourceVersion this watch has processed (what bookmarks report).
    last_rv: u64,
}

impl Watch {
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(line) = self.pending.pop_front() {
            return Some(line);
        }
        let changes = self.changes.as_mut()?;
        loop {
            let bookmark_at = self
                .bookmarks
                .map_or(self.deadline, |(_, at)| at.min(self.deadline));
            tokio::select! {
                biased;
                () = self.closed.cancelled() => return None,
                received = changes.recv() => match received {
                    Ok(change) if change.rv <= self.last_rv => {}
                    Ok(change) => {
                        self.last_rv = change.rv;
                        if let Some(line) = self.filter.line(&change) {
                            return Some(line);
                        }
                    }
                    // Too slow to keep up, or the server is going away: end the stream; the
                    // client resumes from the last resourceVersion it saw.
                    Err(RecvError::Lagged(_) | RecvError::Closed) => return None,
                },
                () = tokio::time::sleep_until(bookmark_at) => {
                    if Instant::now() >= self.deadline {
                        return None;
                    }
                    if let Some((every, at)) = &mut self.bookmarks {
                        *at = Instant::now() + *every;
                        return Some(self.filter.bookmark(self.last_rv, false));
                    }
                }
            }
        }
    }
}

/// Starts a watch on `t` (one object when `name` is given).
pub(crate) fn serve(
    shared: &Arc<Shared>,
    req: &Request,
    t: Target,
    name: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let (labels, mut fields) = selectors::from_query(&req.query)?;
    if let Some(name) = name {
        fields = fields.with_name(name);
    }
    let send_initial = req.query.flag("sendInitialEvents");
    let rv_param = req.query.get("resourceVersion").unwrap_or_default();
    let start_rv = match rv_param {
        "" | "0" => None,
        v => Some(
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {v:?}")))?,
        ),
    };
    // Capped so an absurd timeoutSeconds cannot overflow the deadline.
    let timeout = req
        .query
        .number("timeoutSeconds")?
        .map_or(shared.config.default_watch_timeout, Duration::from_secs)
        .min(MAX_WATCH);
    let selective = labels != LabelSelector::default() || fields != FieldSelector::default();
    let filter = Filter {
        labels,
        fields,
        selective,
        presentation: Presentation::from_accept(&req.accept),
        include: IncludeObject::parse(req.query.get("includeObject")),
        target: t,
    };
    let mut pending = VecDeque::new();
    let (changes, closed, last_rv) = {
        let state = shared.state();
        let (rx, closed) = state.store.subscribe();
        let current = state.store.resource_version();
        let info = &filter.target.info;
        let mut changes = Some(rx);
        if start_rv.is_none() || send_initial {
            for (_, stored) in
                state
                    .store
                    .list(&info.store, filter.target.namespace.as_deref(), None)
            {
                let obj = view(info, &filter.target.version, &stored.object);
                if filter.matches(&obj) {
                    pending.push_back(filter.encode("ADDED", &obj, None));
                }
            }
            if send_initial {
                pending.push_back(filter.bookmark(current, true));
            }
        } else if let Some(rv) = start_rv {
            match state.store.replay(&info.store, rv) {
                Ok(history) => pending.extend(history.iter().filter_map(|c| filter.line(c))),
                Err(too_old) => {
                    let status = ApiError::expired(format!(
                        "too old resource version: {} ({})",
                        too_old.requested, too_old.compacted
                    ))
                    .to_status();
                    pending.push_back(line(&json!({"type": "ERROR", "object": status})));
                    changes = None;
                }
            }
        }
        (changes, closed, current)
    };
    let every = shared.config.bookmark_interval;
    let watch = Watch {
        pending,
        filter,
        changes,
        closed,
        deadline: Instant::now() + timeout,
        bookmarks: req
            .query
            .flag("allowWatchBookmarks")
            .then(|| (every, Instant::now() + every)),
        last_rv,
    };
    let frames = stream::unfold(watch, |mut w| async move {
        w.next().await.map(|line| (Ok(Frame::data(line)), w))
    });
    let mut resp = Response::new(StreamBody::new(frames).boxed_unsync());
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}
