//! The check of the `ws_message` fuzz target: client messages of a stream session. Each line of
//! the input is one text frame on connection 1 (a line starting `@2 ` goes to connection 2),
//! sent in order to a fresh [`fixture`] registry with both connections open.

use registry_core::stream::message::decode;

use super::core_api;
use super::props::{check_durable, check_stream_message, fixture, stored, NOW};

/// Runs the check on one input; panics on a violation.
///
/// Every message the service sends is well-formed JSON with a type, no error is a server
/// failure, a frame gets at most one `error` (exactly one when the decoder refuses it, with the
/// decoder's code), a refused frame changes nothing in the store, and the in-memory state is
/// always what the store reloads to.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut svc = fixture();
    for conn in [1, 2] {
        assert!(
            core_api::open_session(&mut svc, conn),
            "session {conn} opens"
        );
    }
    for line in text.split('\n') {
        let (conn, frame) = match line.strip_prefix("@2 ") {
            Some(frame) => (2, frame),
            None => (1, line),
        };
        let what = format!("frame {frame:?} on {conn}");
        let before = stored(&svc);
        let mut errors = Vec::new();
        for out in core_api::on_message(&mut svc, conn, frame, NOW) {
            let (kind, code) = check_stream_message(&out.text, &what);
            if out.conn == conn && kind == "error" {
                errors.push(code.expect("an error has a code"));
            }
        }
        assert!(errors.len() <= 1, "{what}: several errors: {errors:?}");
        if let Err((_, e)) = decode(frame) {
            assert_eq!(errors, [e.code], "{what}: the decoder refuses it with {e}");
        }
        if !errors.is_empty() {
            assert_eq!(
                stored(&svc),
                before,
                "{what}: refused, but the store changed"
            );
        }
        check_durable(&svc, &what);
    }
}
