//! The client session (`registry_core::client::session`), driven natively against the real
//! service: one client with two watches, a provided register, a validator and two change
//! requests (its own provider answers them), its socket cut after every message boundary of
//! the script in turn. Each time: every watch ends with the registry's state and processed
//! no version twice, each request's outcome is delivered exactly once, each transaction is
//! decided at most once, and a rejected one is never written.

use std::collections::BTreeMap;

use registry_core::client::session::{Delivery, Msg, Ready, Session};
use registry_core::stream::wire::ServerMsg;
use registry_tests::{Harness, Ticket};
use serde_json::value::RawValue;
use serde_json::{json, Value};

fn raw(v: Value) -> Box<RawValue> {
    RawValue::from_string(v.to_string()).unwrap()
}

/// The application around the session, and what it observed.
struct App {
    s: Session,
    conn: u64,
    /// What each watch shows: entry id → data.
    views: BTreeMap<String, BTreeMap<String, Value>>,
    /// Versions processed per watch, in order.
    applied: BTreeMap<String, Vec<u64>>,
    /// Outcomes by local request handle: (status, reason), one push per delivery.
    outcomes: BTreeMap<u64, Vec<(String, Option<String>)>>,
    /// Transactions decided: tx → accepted.
    decided: BTreeMap<u64, Vec<bool>>,
    /// Request ids to read over HTTP.
    polls: Vec<u64>,
    /// Refused or lost calls (verdicts, decisions): they are not retried.
    lost: usize,
}

impl App {
    fn new(h: &mut Harness) -> Self {
        let mut s = Session::default();
        let (names, _) = s.watch(Some(vec!["lamp".into()]), None);
        let (all, _) = s.watch(None, Some(vec![".kind=register".into()]));
        s.provide("lamp", raw(json!(false)), None, Some("1h".into()));
        s.validate(vec![".kind=switch".into()]);
        let mut app = App {
            s,
            conn: 0,
            views: BTreeMap::from([(names, BTreeMap::new()), (all, BTreeMap::new())]),
            applied: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            decided: BTreeMap::new(),
            polls: Vec::new(),
            lost: 0,
        };
        app.reconnect(h);
        app
    }

    fn reconnect(&mut self, h: &mut Harness) {
        if self.conn > 0 {
            h.disconnect(self.conn);
            let ready = self.s.disconnected();
            self.carry_out(h, ready, None);
        }
        self.conn += 1;
        h.connect(self.conn);
        let ready = self.s.connected();
        self.carry_out(h, ready, None);
    }

    /// Sends what the session says and hands its deliveries to the application (`msg`: the
    /// message they are about).
    fn carry_out(&mut self, h: &mut Harness, ready: Ready, msg: Option<&ServerMsg>) {
        for text in ready.send {
            h.send(self.conn, text);
        }
        self.polls.extend(ready.poll);
        for d in ready.deliver {
            match d {
                Delivery::Watch(id) => self.apply(&id, msg.expect("a watch message")),
                Delivery::Request { request } => {
                    let Some(ServerMsg::Request(m)) = msg else {
                        panic!("a request message")
                    };
                    let value: Value = serde_json::from_str(m.value.get()).unwrap();
                    let accept = value.is_boolean();
                    let reason = (!accept).then(|| format!("{value} is not on or off"));
                    let (_, ready) = (self.s.verdict(request, accept, reason, accept))
                        .expect("the socket is open");
                    self.carry_out(h, ready, None);
                }
                Delivery::Validate { validator, tx } => {
                    let Some(ServerMsg::Validate(m)) = msg else {
                        panic!("a validate message")
                    };
                    let ops: Vec<Value> = serde_json::from_str(m.ops.get()).unwrap();
                    let accept = ops.iter().all(|op| op["entry"]["data"] != "broken");
                    self.decided.entry(tx).or_default().push(accept);
                    let decide = Msg::Decide {
                        tx,
                        validator,
                        accept,
                        reason: (!accept).then(|| "broken".to_string()),
                    };
                    let (_, ready) = self.s.call(&decide).expect("the socket is open");
                    self.carry_out(h, ready, None);
                }
                Delivery::Outcome(o) => {
                    let got = (o.status, o.reason);
                    self.outcomes.entry(o.local).or_default().push(got);
                }
                Delivery::Reply(_, Ok(())) | Delivery::ValidatorReady(_, Ok(())) => {}
                Delivery::Reply(_, Err(_)) | Delivery::Lost(_) => self.lost += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    fn apply(&mut self, id: &str, msg: &ServerMsg) {
        let view = self.views.get_mut(id).unwrap();
        match msg {
            ServerMsg::Snapshot(m) => {
                let entries: Vec<Value> = serde_json::from_str(m.entries.get()).unwrap();
                *view = entries
                    .into_iter()
                    .map(|e| (e["id"].as_str().unwrap().to_string(), e["data"].clone()))
                    .collect();
            }
            ServerMsg::Change(m) => {
                let applied = self.applied.entry(id.to_string()).or_default();
                assert!(!applied.contains(&m.version), "{id}: {} twice", m.version);
                applied.push(m.version);
                let ops: Vec<Value> = serde_json::from_str(m.ops.get()).unwrap();
                for op in ops {
                    let eid = op["id"].as_str().unwrap().to_string();
                    match &op["entry"] {
                        Value::Null => view.remove(&eid),
                        e => view.insert(eid, e["data"].clone()),
                    };
                }
            }
            _ => panic!("not a watch message"),
        }
    }

    /// Reads the outcomes the session asked for over HTTP.
    fn poll(&mut self, h: &mut Harness) {
        for id in std::mem::take(&mut self.polls) {
            let record = h.get(&format!("/v1/requests/{id}")).json_body();
            let status = record["status"].as_str().unwrap().to_string();
            let ready = self.s.polled(id, &status, record["reason"].as_str());
            if ready.deliver.is_empty() && status == "delivered" {
                self.polls.push(id); // not final yet: asked again later
            }
            self.carry_out(h, ready, None);
        }
    }
}

fn tx(id: &str, data: Value) -> String {
    json!({"ops": [{"op": "upsert", "id": id, "kind": "switch", "data": data}]}).to_string()
}

/// Runs the script, cutting the socket after message `cut` (counting from 1); returns the
/// application, the number of messages, and the answers to the two transactions.
fn run(cut: Option<usize>) -> (App, usize, Vec<u16>) {
    let mut h = Harness::new();
    let mut app = App::new(&mut h);
    let (mut n, mut tickets, mut requests) = (0, Vec::new(), Vec::new());
    for step in 0..=7 {
        'drain: loop {
            let msgs = h.take(app.conn);
            if msgs.is_empty() {
                break;
            }
            for m in msgs {
                n += 1;
                let text = m.to_string();
                let msg = ServerMsg::decode(&text).unwrap().expect("a known message");
                let ready = app.s.received(&msg);
                app.carry_out(&mut h, ready, Some(&msg));
                if cut == Some(n) {
                    app.reconnect(&mut h); // the rest of this batch is lost with the socket
                    continue 'drain;
                }
            }
        }
        app.poll(&mut h);
        match step {
            0 => h.provide("a", json!(1)),
            1 | 5 => {
                let value = if step == 1 { json!(true) } else { json!("dim") };
                let (local, ready) = app.s.request("lamp", raw(value));
                requests.push(local);
                app.carry_out(&mut h, ready, None);
            }
            2 => tickets.push(h.start("POST", "/v1/tx", &tx("s:ok", json!(1)))),
            3 => h.provide("a", json!(2)),
            4 => tickets.push(h.start("POST", "/v1/tx", &tx("s:bad", json!("broken")))),
            6 => h.provide("b", json!(1)),
            _ => {}
        }
    }
    assert!(app.polls.is_empty(), "outcomes not final: {:?}", app.polls);
    let answers = tickets
        .iter()
        .map(|t| match t {
            Ticket::Held(_) => h.result(t).map_or(0, |r| r.status),
            Ticket::Done(r) => r.status,
        })
        .collect();
    // Each watch shows what a fresh one would.
    for (id, view) in &app.views {
        let (names, criteria) = if app.views.keys().next() == Some(id) {
            (Some(vec!["lamp".to_string()]), None)
        } else {
            (None, Some(vec![".kind=register".to_string()]))
        };
        let watch: Msg = Msg::Watch {
            watch: "fresh".into(),
            names,
            criteria,
            since: None,
        };
        h.connect(1000);
        h.send(1000, watch.to_text());
        let snapshot = h.take(1000).into_iter().next().unwrap();
        let fresh: BTreeMap<String, Value> = (snapshot["entries"].as_array().unwrap().iter())
            .map(|e| (e["id"].as_str().unwrap().to_string(), e["data"].clone()))
            .collect();
        h.disconnect(1000);
        assert_eq!(view, &fresh, "watch {id} (cut after {cut:?})");
    }
    assert_eq!(requests.len(), 2);
    (app, n, answers)
}

#[test]
fn a_session_cut_at_every_message_boundary_misses_nothing_and_delivers_each_outcome_once() {
    let (reference, total, answers) = run(None);
    assert_eq!(
        answers,
        [200, 422],
        "the validator accepts s:ok and rejects s:bad"
    );
    let outcomes: Vec<_> = reference.outcomes.values().cloned().collect();
    assert_eq!(
        outcomes,
        [
            vec![("accepted".to_string(), None)],
            vec![(
                "rejected".to_string(),
                Some("\"dim\" is not on or off".into())
            )]
        ]
    );
    assert_eq!(
        reference.views.values().next().unwrap()["lamp"],
        json!(true)
    );
    assert!(total > 15, "{total} messages");
    for k in 1..=total {
        let (app, _, answers) = run(Some(k));
        for (local, got) in &app.outcomes {
            assert_eq!(got.len(), 1, "request {local}: {got:?} (cut after {k})");
        }
        assert_eq!(
            app.outcomes.len(),
            2,
            "every request has an outcome (cut after {k})"
        );
        for (tx, d) in &app.decided {
            assert_eq!(d.len(), 1, "tx {tx} decided {d:?} (cut after {k})");
        }
        assert_ne!(
            answers[1], 200,
            "the broken switch is never written (cut after {k})"
        );
        assert_eq!(
            app.views.values().next().unwrap()["lamp"],
            json!(true),
            "the accepted request applied (cut after {k}): {:?}",
            app.outcomes
        );
    }
}
