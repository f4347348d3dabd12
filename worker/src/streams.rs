//! The object's stream connections: hibernatable WebSockets (their session state lives in the
//! socket attachment, so it survives eviction) and Server-Sent-Events responses (a channel
//! feeding the response body). The core decides what to send; this only delivers it.

use std::collections::HashMap;

use futures_channel::mpsc;
use registry_core::stream::{ConnId, Outgoing, SessionState};
use serde::{Deserialize, Serialize};
use worker::WebSocket;

/// What a WebSocket keeps across hibernation.
#[derive(Serialize, Deserialize)]
pub struct Attachment {
    /// The connection id.
    pub conn: ConnId,
    /// Its subscriptions.
    #[serde(default)]
    pub state: SessionState,
}

/// Encodes an attachment as JSON text (numbers keep their digits through structured clone).
pub fn encode_attachment(conn: ConnId, state: &SessionState) -> String {
    serde_json::to_string(&Attachment {
        conn,
        state: state.clone(),
    })
    .expect("session state serializes")
}

/// Reads a socket's attachment.
pub fn read_attachment(ws: &WebSocket) -> Option<Attachment> {
    let text: String = ws.deserialize_attachment().ok().flatten()?;
    serde_json::from_str(&text).ok()
}

/// One open stream connection.
pub enum Conn {
    /// A hibernatable WebSocket.
    Ws(WebSocket),
    /// An SSE response body.
    Sse(mpsc::UnboundedSender<Result<Vec<u8>, worker::Error>>),
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

/// Delivers messages; returns the connections found closed (to close their sessions).
pub fn deliver(conns: &HashMap<ConnId, Conn>, out: Vec<Outgoing>) -> Vec<ConnId> {
    let mut gone = Vec::new();
    for m in out {
        let ok = match conns.get(&m.conn) {
            Some(Conn::Ws(ws)) => ws.send_with_str(&m.text).is_ok(),
            Some(Conn::Sse(tx)) => tx.unbounded_send(Ok(sse_frame(&m))).is_ok(),
            None => false,
        };
        if !ok && !gone.contains(&m.conn) {
            gone.push(m.conn);
        }
    }
    gone
}
