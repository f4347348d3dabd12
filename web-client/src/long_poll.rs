//! The retry loop shared by the consumer and the provider long polls: poll, hand a 200 to the
//! caller, re-poll at once when the poll was aborted to change its names, back off (250 ms,
//! doubling to 5 s) after errors, stop when the client closes or nothing is left to poll.

use gloo_timers::future::TimeoutFuture;
use web_sys::AbortController;

use crate::shared::SharedRef;
use crate::transport::{send, Reply};

/// What a long poll does at each step.
pub struct Poll {
    /// The next URL to poll (and its abort controller), or `None` to stop.
    pub next: fn(&SharedRef) -> Option<(String, AbortController)>,
    /// A 200 answer.
    pub on_answer: fn(&SharedRef, Reply),
    /// After a failed poll (network or HTTP error), before backing off.
    pub on_error: fn(&SharedRef),
    /// The loop has ended.
    pub on_stop: fn(&SharedRef),
}

/// Runs the loop until `next` returns `None` or the client closes.
pub async fn run(shared: SharedRef, poll: Poll) {
    let mut backoff = 250;
    while let Some((url, controller)) = (poll.next)(&shared) {
        let lifetime = shared.borrow().lifetime.signal();
        let signal = controller.signal();
        let result = send("GET", &url, None, Some(&signal)).await;
        if lifetime.aborted() {
            break;
        }
        match result {
            Ok(reply) if reply.status == 200 => {
                backoff = 250;
                (poll.on_answer)(&shared, reply);
            }
            // Aborted to re-poll with other names.
            Err(_) if signal.aborted() => continue,
            _ => {
                (poll.on_error)(&shared);
                TimeoutFuture::new(backoff).await;
                backoff = (backoff * 2).min(5_000);
            }
        }
    }
    (poll.on_stop)(&shared);
}
