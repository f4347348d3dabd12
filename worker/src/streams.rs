//! The object's stream connections: hibernatable WebSockets (their attachment holds their
//! connection id; their sessions are saved in SQLite, so they survive eviction) and
//! Server-Sent-Events responses (a channel
//! feeding the response body). The core decides what to send; this only delivers it.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_channel::mpsc;
use futures_util::{Stream, StreamExt};
use registry_core::stream::{ConnId, Outgoing, SessionState};
use serde::{Deserialize, Serialize};
use worker::WebSocket;

/// What a WebSocket keeps across hibernation: only its connection id (its subscriptions are
/// saved in SQLite by the core, whatever their size).
#[derive(Serialize, Deserialize)]
pub struct Attachment {
    /// The connection id.
    pub conn: ConnId,
    /// Subscriptions, as sockets accepted by an older version kept them (read once, then
    /// moved to SQLite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<SessionState>,
}

/// Encodes an attachment as JSON text (numbers keep their digits through structured clone).
pub fn encode_attachment(conn: ConnId) -> String {
    serde_json::to_string(&Attachment { conn, state: None }).expect("an id serializes")
}

/// Reads a socket's attachment.
pub fn read_attachment(ws: &WebSocket) -> Option<Attachment> {
    let text: String = ws.deserialize_attachment().ok().flatten()?;
    serde_json::from_str(&text).ok()
}

/// One open stream connection.
#[derive(Clone)]
pub enum Conn {
    /// A hibernatable WebSocket.
    Ws(WebSocket),
    /// An SSE response body.
    Sse(mpsc::UnboundedSender<SseChunk>),
}

/// How often an SSE stream gets a keep-alive comment. Besides keeping proxies from closing an
/// idle stream, it is what finds a stream whose client left: the runtime says so only when a
/// write fails (then it drops the body, see [`SseBody`]); through `wrangler dev`'s proxy it
/// takes two writes. So an abandoned stream holds its slot at most about two intervals.
pub const SSE_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(5);

/// What an SSE response body carries.
pub type SseChunk = Result<Vec<u8>, worker::Error>;

/// The body of an SSE response: the frames sent to its channel. The runtime drops it when the
/// stream is cancelled (its client went away), and the connection is then recorded as gone at
/// once, instead of at the next frame that fails to be sent (up to a keep-alive later).
pub struct SseBody {
    rx: mpsc::UnboundedReceiver<SseChunk>,
    conn: ConnId,
    outbox: Outbox,
}

impl SseBody {
    /// The body of connection `conn`, reported gone to `outbox` when dropped.
    pub fn new(rx: mpsc::UnboundedReceiver<SseChunk>, conn: ConnId, outbox: &Outbox) -> Self {
        SseBody {
            rx,
            conn,
            outbox: outbox.clone(),
        }
    }
}

impl Stream for SseBody {
    type Item = SseChunk;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SseChunk>> {
        self.rx.poll_next_unpin(cx)
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        self.outbox.mark_gone(self.conn);
    }
}

/// An SSE frame for one message.
pub fn sse_frame(m: &Outgoing) -> Vec<u8> {
    let mut frame = format!("event: {}\n", m.event);
    if let Some(v) = m.version {
        frame.push_str(&format!("id: {v}\n"));
    }
    frame.push_str("data: ");
    frame.push_str(&m.text);
    frame.push_str("\n\n");
    frame.into_bytes()
}

/// Messages on their way out, sent in order by one task that runs after the current event
/// has answered: a write is acknowledged without waiting for its fan-out to every watcher,
/// and every message still leaves in the order the service queued it (all sends go through
/// this one queue).
#[derive(Clone, Default)]
pub struct Outbox {
    queue: Rc<RefCell<VecDeque<(ConnId, Conn, Outgoing)>>>,
    scheduled: Rc<Cell<bool>>,
    gone: Rc<RefCell<Vec<ConnId>>>,
}

impl Outbox {
    /// Queues messages for the connections they are for (an unknown connection is gone).
    pub fn push(&self, conns: &HashMap<ConnId, Conn>, out: Vec<Outgoing>) {
        let mut queue = self.queue.borrow_mut();
        for m in out {
            match conns.get(&m.conn) {
                Some(c) => queue.push_back((m.conn, c.clone(), m)),
                None => self.gone.borrow_mut().push(m.conn),
            }
        }
    }

    /// Makes sure the sending task runs (once) after the current event.
    pub fn schedule(&self) {
        if self.queue.borrow().is_empty() || self.scheduled.replace(true) {
            return;
        }
        let me = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            worker::Delay::from(std::time::Duration::ZERO).await;
            me.scheduled.set(false);
            me.drain();
        });
    }

    fn drain(&self) {
        loop {
            // Pop outside the send: sending never runs while the queue is borrowed.
            let next = self.queue.borrow_mut().pop_front();
            let Some((conn, c, m)) = next else { break };
            let ok = match &c {
                Conn::Ws(ws) => ws.send_with_str(&m.text).is_ok(),
                Conn::Sse(tx) => tx.unbounded_send(Ok(sse_frame(&m))).is_ok(),
            };
            if !ok {
                self.gone.borrow_mut().push(conn);
            }
        }
    }

    /// Records a connection found gone outside the outbox (an SSE keep-alive that failed, an
    /// SSE body dropped by the runtime); its session is closed by the object's next flush.
    pub fn mark_gone(&self, conn: ConnId) {
        self.gone.borrow_mut().push(conn);
    }

    /// Connections found gone since the last call.
    pub fn take_gone(&self) -> Vec<ConnId> {
        let mut gone = std::mem::take(&mut *self.gone.borrow_mut());
        gone.sort_unstable();
        gone.dedup();
        gone
    }
}
