//! The retry loop shared by the consumer and the provider long polls: poll, hand a 200 to the
//! caller, re-poll at once when the poll was aborted to change its names, back off (250 ms,
//! doubling to 5 s) after errors, stop when the client closes or nothing is left to poll.

use gloo_timers::future::TimeoutFuture;
use registry_core::client::status::Event;
use web_sys::AbortController;

use crate::shared::{Shared, SharedRef};
use crate::status::report;
use crate::transport::{send, Reply};

/// What a long poll does at each step.
#[derive(Clone, Copy)]
pub struct Poll {
    /// Whether the loop runs (its flag in the client state).
    pub running: fn(&mut Shared) -> &mut bool,
    /// The next URL to poll (and its abort controller), or `None` to stop.
    pub next: fn(&SharedRef) -> Option<(String, AbortController)>,
    /// A 200 answer.
    pub on_answer: fn(&SharedRef, Reply),
    /// After a failed poll (network or HTTP error), before backing off.
    pub on_error: fn(&SharedRef),
}

/// Starts the loop if it is not running — only on long polls: over the WebSocket, watches and
/// provides do this job.
pub fn ensure_running(shared: &SharedRef, poll: Poll) {
    {
        let mut s = shared.borrow_mut();
        if *(poll.running)(&mut s) || s.closed || s.transport.sockets() {
            return;
        }
        *(poll.running)(&mut s) = true;
    }
    wasm_bindgen_futures::spawn_local(run(shared.clone(), poll));
}

/// Runs the loop until `next` returns `None` or the client closes.
async fn run(shared: SharedRef, poll: Poll) {
    let mut backoff = 250;
    while let Some((url, controller)) = (poll.next)(&shared) {
        let signal = controller.signal();
        let token = shared.borrow().token.clone();
        let result = send("GET", &url, None, Some(&signal), token.as_deref()).await;
        if shared.borrow().closed {
            break;
        }
        match result {
            Ok(reply) if reply.status == 200 => {
                backoff = 250;
                report(&shared, Event::PollAnswered);
                (poll.on_answer)(&shared, reply);
            }
            // Aborted to re-poll with other names.
            Err(_) if signal.aborted() => continue,
            _ => {
                report(&shared, Event::PollFailed);
                (poll.on_error)(&shared);
                TimeoutFuture::new(backoff).await;
                backoff = (backoff * 2).min(5_000);
            }
        }
    }
    *(poll.running)(&mut shared.borrow_mut()) = false;
}
