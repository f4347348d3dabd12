//! `Validator`: a remote validator over the WebSocket (`client.validate(criteria, fn)`). Every
//! transaction touching a matching entry is held by the registry until `fn` decides; the
//! registration is re-sent whenever the socket reopens.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::abort::Listener;
use registry_core::stream::wire::Ask;

use crate::convert::{error, message_of, object, raw_js};
use crate::shared::SharedRef;
use crate::ws::{self, ClientMsg};

#[wasm_bindgen(inline_js = "export function quiet(p) { p.catch(() => {}); return p; }")]
extern "C" {
    /// Marks a promise as handled (its rejection still reaches those who await it).
    fn quiet(p: &Promise) -> Promise;
}

/// A validator as the client sees it.
pub struct ValidatorState {
    /// `v1`, `v2`… (per client).
    pub id: String,
    /// The user's function.
    pub callback: Function,
    /// `ready`, and its resolve/reject until settled.
    ready: Promise,
    settle_fns: RefCell<Option<(Function, Function)>>,
    /// The `options.signal` listener (dropped on close).
    abort: RefCell<Option<Listener>>,
}

impl ValidatorState {
    /// Settles `ready` (first call only). Call without holding the client's borrow.
    pub fn settle(&self, result: Result<JsValue, JsValue>) {
        let fns = self.settle_fns.borrow_mut().take();
        if let Some((resolve, reject)) = fns {
            let _ = match result {
                Ok(v) => resolve.call1(&JsValue::NULL, &v),
                Err(e) => reject.call1(&JsValue::NULL, &e),
            };
        }
    }
}

/// A remote validator: `fn` decides on every transaction touching a matching entry. Returned
/// by `client.validate()`.
///
/// ```js
/// const v = client.validate({ ".kind": "switch" }, ({ ops }) =>
///   ops.every((op) => op.entry?.data !== "broken") || "broken switches are not allowed");
/// await v.ready;                 // the registry has it
/// // … later
/// v.close();
/// ```
#[wasm_bindgen]
pub struct Validator {
    pub(crate) shared: SharedRef,
    pub(crate) state: Rc<ValidatorState>,
}

#[wasm_bindgen]
impl Validator {
    /// The validator's id on this client's socket (`"v1"`…); reasons of rejected
    /// transactions name it as `validator:<id>`.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.state.id.clone()
    }

    /// Resolves once the registry has the validator; rejects when it refuses it (e.g. a bad
    /// criterion: `code: "invalid_criterion"`), when the client uses long polls, or on close
    /// before that.
    #[wasm_bindgen(getter, unchecked_return_type = "Promise<void>")]
    pub fn ready(&self) -> Promise {
        self.state.ready.clone()
    }

    /// Stops validating (`unvalidate`). Idempotent.
    pub fn close(&self) {
        close_validator(&self.shared, &self.state.id);
    }
}

/// Registers a validator (sent now if the socket is open, else when it opens).
pub fn validate(
    shared: &SharedRef,
    criteria: Vec<String>,
    callback: Function,
    signal: Option<web_sys::AbortSignal>,
) -> Result<Validator, JsValue> {
    if !shared.borrow().transport.sockets() {
        return Err(error(
            "validate() needs the WebSocket transport; this client uses long polls",
        ));
    }
    let mut fns = None;
    let ready = quiet(&Promise::new(&mut |resolve, reject| {
        fns = Some((resolve, reject))
    }));
    let (state, texts) = {
        let mut s = shared.borrow_mut();
        let (id, text) = s.subs.validate(criteria);
        let state = Rc::new(ValidatorState {
            id,
            callback,
            ready,
            settle_fns: RefCell::new(fns),
            abort: RefCell::new(None),
        });
        s.validators.insert(state.id.clone(), state.clone());
        (state, text)
    };
    if let Some(text) = texts {
        ws::send_text(shared, &text);
    }
    ws::ensure(shared);
    if let Some(signal) = signal {
        let (weak, id) = (Rc::downgrade(shared), state.id.clone());
        let listener = crate::abort::on_abort(&signal, move || {
            if let Some(shared) = weak.upgrade() {
                close_validator(&shared, &id);
            }
        });
        *state.abort.borrow_mut() = listener;
    }
    Ok(Validator {
        shared: shared.clone(),
        state,
    })
}

/// Forgets a validator, tells the registry, rejects a still-pending `ready`.
pub fn close_validator(shared: &SharedRef, id: &str) {
    let (state, texts) = {
        let mut s = shared.borrow_mut();
        let Some(state) = s.validators.remove(id) else {
            return;
        };
        (state, s.subs.unvalidate(id))
    };
    if let Some(text) = texts {
        ws::send_text(shared, &text);
    }
    let listener = state.abort.borrow_mut().take();
    drop(listener);
    state.settle(Err(error("validator closed")));
}

/// The reply to a `validate` message.
pub fn on_reply(shared: &SharedRef, id: &str, result: Result<JsValue, JsValue>) {
    let state = {
        let mut s = shared.borrow_mut();
        if result.is_err() {
            s.validators.remove(id)
        } else {
            s.validators.get(id).cloned()
        }
    };
    if let Some(state) = state {
        state.settle(result.map(|_| JsValue::UNDEFINED));
    }
}

/// What a validator function decided.
async fn decide(callback: Function, arg: JsValue) -> Result<(), Option<String>> {
    let returned = callback
        .call1(&JsValue::NULL, &arg)
        .map_err(|e| Some(message_of(&e)))?;
    let value = JsFuture::from(Promise::resolve(&returned))
        .await
        .map_err(|e| Some(message_of(&e)))?;
    if value.is_undefined() || value.is_null() || value == JsValue::TRUE {
        Ok(())
    } else if value == JsValue::FALSE {
        Err(None)
    } else if let Some(reason) = value.as_string() {
        Err(Some(reason))
    } else {
        Err(Some(
            "the validator returned neither a boolean nor a string".into(),
        ))
    }
}

/// A `validate` message: a transaction waits for this validator's decision.
pub fn on_validate(shared: &SharedRef, msg: &Ask) {
    let (id, tx) = (msg.validator.to_string(), msg.tx);
    let callback = shared
        .borrow()
        .validators
        .get(&id)
        .map(|v| v.callback.clone());
    let arg: JsValue = object(&[
        ("tx", JsValue::from_f64(tx as f64)),
        ("validator", id.as_str().into()),
        ("ops", raw_js(msg.ops)),
        ("deadline", JsValue::from_f64(msg.deadline as f64)),
    ])
    .into();
    let shared = shared.clone();
    wasm_bindgen_futures::spawn_local(async move {
        // A validator closed meanwhile has no objection.
        let decision = match callback {
            Some(callback) => decide(callback, arg).await,
            None => Ok(()),
        };
        let msg = ClientMsg::Decide {
            tx,
            validator: id,
            accept: decision.is_ok(),
            reason: decision.err().flatten(),
        };
        ws::send(&shared, &msg);
    });
}
