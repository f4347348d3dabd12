//! The object's stream connections: hibernatable WebSockets (their attachment holds their
//! connection id; their sessions are saved in SQLite, so they survive eviction) and
//! Server-Sent-Events responses (the writable side of a JS `TransformStream` whose readable
//! side is the response body). The core decides what to send; this only delivers it.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use registry_core::stream::{ConnId, Outgoing, SessionState};
use serde::{Deserialize, Serialize};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::WebSocket;

#[wasm_bindgen]
extern "C" {
    /// A WebSocket seen only for its `send`.
    type Sender;
    /// `WebSocket.send` of a JS string made once for many sockets (workers-rs' `send_with_str`
    /// makes one from Rust text at every call).
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_text(this: &Sender, text: &JsValue) -> Result<(), JsValue>;
}

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
    Sse(SseStream),
}

/// How often an SSE stream gets a keep-alive comment. Besides keeping proxies from closing an
/// idle stream, it is what finds a stream whose client left when the runtime did not say so
/// (through `wrangler dev`'s proxy it takes two writes). So an abandoned stream holds its slot
/// at most about two intervals.
pub const SSE_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(5);

/// The body of an SSE response: the writable side of a JS `TransformStream` whose readable
/// side is the response body. Frames are JS bytes written straight to it (one `Uint8Array`
/// shared by every stream that gets the same frame), with no Rust stream to poll per
/// connection. When the runtime cancels the body (its client went away), the writer's
/// `closed` promise rejects and the connection is recorded as gone at once.
#[derive(Clone)]
pub struct SseStream {
    writer: web_sys::WritableStreamDefaultWriter,
    gone: Rc<Cell<bool>>,
    /// Swallows the rejection of a write to a stream that is gone (found by `closed`).
    ignore: Rc<Closure<dyn FnMut(JsValue)>>,
    /// Records the stream gone when its `closed` promise rejects (kept alive with it).
    _on_closed: Rc<Closure<dyn FnMut(JsValue)>>,
}

impl SseStream {
    /// A new stream of connection `conn`, reported gone to `outbox` when its body is
    /// cancelled, and the readable side to answer with.
    pub fn open(conn: ConnId, outbox: &Outbox) -> worker::Result<(Self, web_sys::ReadableStream)> {
        let pipe = web_sys::TransformStream::new()?;
        let writer = pipe.writable().get_writer()?;
        let gone = Rc::new(Cell::new(false));
        let (flag, outbox) = (gone.clone(), outbox.clone());
        let on_closed = Closure::new(move |_: JsValue| {
            flag.set(true);
            outbox.mark_gone(conn);
        });
        let _ = writer.closed().catch(&on_closed);
        let stream = SseStream {
            writer,
            gone,
            ignore: Rc::new(Closure::new(|_: JsValue| {})),
            _on_closed: Rc::new(on_closed),
        };
        Ok((stream, pipe.readable()))
    }

    /// Writes `chunk` (not awaited: frames queue in order); false once the stream is gone.
    pub fn write(&self, chunk: &JsValue) -> bool {
        if self.gone.get() {
            return false;
        }
        let _ = self.writer.write_with_chunk(chunk).catch(&self.ignore);
        true
    }

    /// Ends the response (its session is over).
    pub fn end(&self) {
        self.gone.set(true);
        let _ = self.writer.close().catch(&self.ignore);
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
    /// The SSE streams the keep-alive visits.
    sse: Rc<RefCell<HashMap<ConnId, SseStream>>>,
    /// Whether the keep-alive task runs.
    keep_alive: Rc<Cell<bool>>,
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
        // One change fans out as the same text to every socket of the same selection: it
        // crosses into JS once (one JS string, not one per socket) while the text repeats.
        let mut last: Option<(String, JsValue)> = None;
        // The same for SSE: one `Uint8Array` per distinct frame.
        type FrameKey = (String, Option<u64>, &'static str);
        let mut last_frame: Option<(FrameKey, JsValue)> = None;
        loop {
            // Pop outside the send: sending never runs while the queue is borrowed.
            let next = self.queue.borrow_mut().pop_front();
            let Some((conn, c, m)) = next else { break };
            let ok = match &c {
                Conn::Ws(ws) => {
                    if last.as_ref().is_none_or(|(text, _)| *text != m.text) {
                        let js = JsValue::from_str(&m.text);
                        last = Some((m.text, js));
                    }
                    let (_, js) = last.as_ref().expect("set above");
                    AsRef::<web_sys::WebSocket>::as_ref(ws)
                        .unchecked_ref::<Sender>()
                        .send_text(js)
                        .is_ok()
                }
                Conn::Sse(sse) => {
                    let same = |(k, _): &(FrameKey, JsValue)| {
                        k.0 == m.text && k.1 == m.version && k.2 == m.event
                    };
                    if !last_frame.as_ref().is_some_and(same) {
                        let bytes = js_sys::Uint8Array::from(sse_frame(&m).as_slice());
                        last_frame = Some(((m.text, m.version, m.event), bytes.into()));
                    }
                    let (_, bytes) = last_frame.as_ref().expect("set above");
                    sse.write(bytes)
                }
            };
            if !ok {
                self.gone.borrow_mut().push(conn);
            }
        }
    }

    /// Gives an SSE stream a keep-alive comment every [`SSE_KEEP_ALIVE`]: one timer and one
    /// chunk for every open stream (not a timer per stream); a stream whose write fails is
    /// recorded gone. The task stops when no stream is left.
    pub fn keep_alive(&self, conn: ConnId, sse: SseStream) {
        self.sse.borrow_mut().insert(conn, sse);
        if self.keep_alive.replace(true) {
            return;
        }
        let me = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let chunk: JsValue = js_sys::Uint8Array::from(&b": keep-alive\n\n"[..]).into();
            loop {
                worker::Delay::from(SSE_KEEP_ALIVE).await;
                let streams: Vec<(ConnId, SseStream)> = me
                    .sse
                    .borrow()
                    .iter()
                    .map(|(c, s)| (*c, s.clone()))
                    .collect();
                for (conn, sse) in streams {
                    if !sse.write(&chunk) {
                        me.sse.borrow_mut().remove(&conn);
                        me.mark_gone(conn);
                    }
                }
                if me.sse.borrow().is_empty() {
                    me.keep_alive.set(false);
                    break;
                }
            }
        });
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
