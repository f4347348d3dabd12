//! The client's protocol logic (`registry_core::client`), driven natively: a client that loses
//! its connection at every message boundary of a scripted session and resumes with its
//! [`Cursor`] ends with exactly what a client that never lost it saw, every change once.

use std::collections::BTreeMap;

use registry_core::client::{Admit, Cursor};
use registry_core::stream::wire::ServerMsg;
use registry_tests::Harness;
use serde_json::{json, Value};

/// The client side: one watch of every register, its cursor and what it shows.
#[derive(Default)]
struct Client {
    conn: u64,
    cursor: Cursor,
    view: BTreeMap<String, Value>,
    /// The versions of the changes processed, in order.
    applied: Vec<u64>,
    duplicates: usize,
}

impl Client {
    fn watch(&self, h: &mut Harness, since: Option<u64>) {
        let mut cursor = Cursor::default();
        if let Some(v) = since {
            let synced = json!({"type": "synced", "watch": "w", "version": v}).to_string();
            cursor.admit(&ServerMsg::decode(&synced).unwrap().unwrap());
        }
        let msg: registry_core::stream::wire::ClientMsg =
            cursor.watch_message("w", None, Some(vec![".kind=register".into()]));
        h.send(self.conn, msg.to_text());
    }

    /// Opens a new connection and (re)starts the watch from `since`.
    fn connect(&mut self, h: &mut Harness, since: Option<u64>) {
        self.conn += 1;
        h.connect(self.conn);
        self.watch(h, since);
    }

    fn process(&mut self, text: &str) -> Admit {
        let msg = ServerMsg::decode(text).unwrap().expect("a known message");
        let admit = self.cursor.admit(&msg);
        match admit {
            Admit::Duplicate => self.duplicates += 1,
            Admit::Marker => {}
            Admit::Process => match msg {
                ServerMsg::Snapshot(m) => {
                    let entries: Vec<Value> = serde_json::from_str(m.entries.get()).unwrap();
                    self.view = entries
                        .into_iter()
                        .map(|e| (e["id"].as_str().unwrap().to_string(), e["data"].clone()))
                        .collect();
                }
                ServerMsg::Change(m) => {
                    assert!(!self.applied.contains(&m.version), "{} twice", m.version);
                    self.applied.push(m.version);
                    let ops: Vec<Value> = serde_json::from_str(m.ops.get()).unwrap();
                    for op in ops {
                        let id = op["id"].as_str().unwrap().to_string();
                        match &op["entry"] {
                            Value::Null => self.view.remove(&id),
                            e => self.view.insert(id, e["data"].clone()),
                        };
                    }
                }
                _ => unreachable!("only watch messages are processed"),
            },
        }
        admit
    }
}

/// The script: publications, a TTL expiry, more publications.
fn script(h: &mut Harness, step: usize) {
    match step {
        0 => h.provide("a", json!(1)),
        1 => h.provide("b", json!(1)),
        2 => h.provide("a", json!(2)),
        3 => h.advance(10_000), // both expire in one version
        4 => h.provide("c", json!({"x": [1, 2.50]})),
        5 => h.provide("a", json!(3)),
        _ => h.provide("c", json!(null)),
    }
}

const STEPS: usize = 7;

/// Runs the script; after processing message `n` (counting from 1), `cut(n, admitted)` says
/// whether the connection is lost there (the rest of what it received is lost with it) and the resume
/// point to use (`lag`: versions behind the cursor, as a client that saved it late).
fn run(cut: &dyn Fn(usize, Admit) -> bool, lag: u64) -> (Client, usize) {
    let mut h = Harness::new();
    let mut c = Client::default();
    c.connect(&mut h, None);
    let mut n = 0;
    for step in 0..=STEPS {
        loop {
            let msgs = h.take(c.conn);
            if msgs.is_empty() {
                break;
            }
            for m in msgs {
                n += 1;
                let admitted = c.process(&m.to_string());
                if cut(n, admitted) {
                    h.disconnect(c.conn);
                    let since = c.cursor.version().map(|v| v.saturating_sub(lag));
                    c.connect(&mut h, since);
                    break;
                }
            }
        }
        if step < STEPS {
            script(&mut h, step);
        }
    }
    // What the registry holds now, through a fresh watch.
    let mut fresh = Client {
        conn: 100,
        ..Client::default()
    };
    fresh.connect(&mut h, None);
    for m in h.take(fresh.conn) {
        fresh.process(&m.to_string());
    }
    assert_eq!(c.view, fresh.view, "the view is the registry's state");
    (c, n)
}

#[test]
fn a_client_cut_at_every_message_boundary_misses_nothing_and_sees_nothing_twice() {
    let (reference, total) = run(&|_, _| false, 0);
    assert_eq!(reference.applied.len(), 7, "every version of the script");
    assert!(total > 8);
    for k in 1..=total {
        let (c, _) = run(&|n, _| n == k, 0);
        assert_eq!(c.applied, reference.applied, "cut after message {k}");
        assert_eq!(c.view, reference.view, "cut after message {k}");
        assert_eq!(c.duplicates, 0);
    }
    // Cut after every message that changed the view (a cut after the `synced` of every
    // resume would never end).
    let (c, _) = run(&|_, a| a == Admit::Process, 0);
    assert_eq!(c.applied, reference.applied);
    assert_eq!(c.view, reference.view);
}

#[test]
fn a_client_resuming_from_behind_its_cursor_drops_the_overlap() {
    let (reference, _) = run(&|_, _| false, 0);
    let (c, _) = run(&|_, a| a == Admit::Process, 2);
    assert_eq!(c.applied, reference.applied, "every change once, in order");
    assert_eq!(c.view, reference.view);
    assert!(c.duplicates > 0, "the overlap was sent again and dropped");
}
