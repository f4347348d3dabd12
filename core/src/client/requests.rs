//! The change requests of one client until their outcome, without I/O. A request not
//! acknowledged before its socket was lost is sent again on the next one (the registry may then
//! hold two; the client follows the one acknowledged); an acknowledged one gets its outcome over
//! the socket, or — outcomes only reach the socket that asked — over `GET /v1/requests/{id}`
//! once that socket is lost. Each request has exactly one outcome. The host (the web client, or
//! [`super::session::Session`]) picks the `ref` of each `request` message, sends it, and reports
//! the reply, the `outcome` messages and what HTTP answered.

use serde_json::value::RawValue;

use super::subscriptions::Msg;

/// Final request statuses.
pub const FINAL: [&str; 4] = ["accepted", "rejected", "superseded", "expired"];

/// A change request's final outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The client's handle of the request ([`Requests::add`]).
    pub local: u64,
    /// The registry's request id (0 when it refused the request).
    pub request: u64,
    /// `accepted`, `rejected`, `superseded` or `expired`; `refused` when the registry refused
    /// the request itself (`reason`: its error, as JSON).
    pub status: String,
    /// The reason given, if any.
    pub reason: Option<String>,
}

/// Where a change request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not sent on the current socket (none open, or the socket it went on was lost before
    /// the acknowledgement).
    Unsent,
    /// Sent with this `ref`; awaiting the acknowledgement.
    Sent(u64),
    /// Acknowledged with this id; awaiting the outcome.
    Acked(u64),
}

#[derive(Debug)]
struct Request {
    name: String,
    value: Box<RawValue>,
    stage: Stage,
}

/// The change requests of a client, by local handle (a client has a handful in flight: a list
/// keeps the wasm smaller than a map would).
#[derive(Debug, Default)]
pub struct Requests {
    next: u64,
    list: Vec<(u64, Request)>,
}

impl Requests {
    fn get_mut(&mut self, local: u64) -> Option<&mut Request> {
        self.list
            .iter_mut()
            .find(|(l, _)| *l == local)
            .map(|(_, r)| r)
    }

    fn take(&mut self, local: u64) -> Option<Request> {
        let at = self.list.iter().position(|(l, _)| *l == local)?;
        Some(self.list.remove(at).1)
    }

    /// A new request to change `name` to `value`; returns its local handle. It is sent on the
    /// open socket ([`Requests::unsent`], [`Requests::sending`]).
    pub fn add(&mut self, name: &str, value: Box<RawValue>) -> u64 {
        self.next += 1;
        let request = Request {
            name: name.to_string(),
            value,
            stage: Stage::Unsent,
        };
        self.list.push((self.next, request));
        self.next
    }

    /// The requests to send on the open socket (oldest first).
    pub fn unsent(&self) -> Vec<u64> {
        (self.list.iter())
            .filter(|(_, r)| r.stage == Stage::Unsent)
            .map(|(l, _)| *l)
            .collect()
    }

    /// The `request` message of `local`, which the host sends now with the numeric `ref`
    /// `reference` (its reply goes to [`Requests::replied`]).
    pub fn sending(&mut self, local: u64, reference: u64) -> Option<Msg> {
        let r = self.get_mut(local)?;
        r.stage = Stage::Sent(reference);
        Some(Msg::Request {
            name: r.name.clone(),
            value: r.value.clone(),
        })
    }

    /// The reply to the `request` message of `local`: `Ok(id)` acknowledged (its outcome comes
    /// later); a refusal (`Err`: the error JSON), or an `ok` without an id, is final.
    pub fn replied(&mut self, local: u64, result: Result<Option<u64>, &str>) -> Option<Outcome> {
        if let Ok(Some(id)) = result {
            if let Some(r) = self.get_mut(local) {
                r.stage = Stage::Acked(id);
            }
            return None;
        }
        self.take(local)?;
        Some(Outcome {
            local,
            request: 0,
            status: "refused".into(),
            reason: result.err().map(str::to_string),
        })
    }

    /// The socket closed: requests not acknowledged are sent again on the next one; returns the
    /// ids of the acknowledged ones, whose outcome is now to be read over HTTP.
    pub fn disconnected(&mut self) -> Vec<u64> {
        let mut poll = Vec::new();
        for (_, r) in self.list.iter_mut() {
            match r.stage {
                Stage::Sent(_) => r.stage = Stage::Unsent,
                Stage::Acked(id) => poll.push(id),
                Stage::Unsent => {}
            }
        }
        poll
    }

    /// What the registry says of request `request` (an `outcome` message, or its record read
    /// over HTTP): its outcome if `status` is final and it was not delivered yet.
    pub fn finish(&mut self, request: u64, status: &str, reason: Option<&str>) -> Option<Outcome> {
        if !FINAL.contains(&status) {
            return None;
        }
        let local = self.forget(request)?;
        Some(Outcome {
            local,
            request,
            status: status.to_string(),
            reason: reason.map(str::to_string),
        })
    }

    /// Drops acknowledged request `request` (its outcome cannot be learnt); returns its local
    /// handle.
    pub fn forget(&mut self, request: u64) -> Option<u64> {
        let local = (self.list.iter())
            .find(|(_, r)| r.stage == Stage::Acked(request))
            .map(|(l, _)| *l)?;
        self.take(local);
        Some(local)
    }

    /// Drops request `local` (the application gave up on it): never sent again.
    pub fn cancel(&mut self, local: u64) {
        self.take(local);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn a_request_lost_before_its_ack_is_sent_again_then_polled_once_acked() {
        let mut q = Requests::default();
        let a = q.add("lamp", json("true"));
        assert_eq!(q.unsent(), vec![a]);
        assert!(q.sending(a, 7).is_some());
        assert!(q.unsent().is_empty());
        assert!(q.disconnected().is_empty());
        assert_eq!(q.unsent(), vec![a]);
        q.sending(a, 9);
        assert_eq!(q.replied(a, Ok(Some(42))), None);
        assert_eq!(q.disconnected(), vec![42]);
        assert_eq!(q.finish(42, "pending", None), None);
        let done = q.finish(42, "accepted", Some("ok")).unwrap();
        assert_eq!((done.local, done.status.as_str()), (a, "accepted"));
        // Exactly once.
        assert_eq!(q.finish(42, "accepted", None), None);
    }

    #[test]
    fn a_refused_request_is_final() {
        let mut q = Requests::default();
        let a = q.add("lamp", json("1"));
        q.sending(a, 1);
        let out = q.replied(a, Err(r#"{"code":"forbidden"}"#)).unwrap();
        assert_eq!(out.status, "refused");
        assert!(q.unsent().is_empty() && q.disconnected().is_empty());
        let b = q.add("lamp", json("2"));
        q.cancel(b);
        assert!(q.unsent().is_empty());
    }
}
