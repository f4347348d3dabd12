//! `RegistryClient.status` and `onStatus()`: the I/O layer reports events to the status
//! machine of `registry_core::client::status` and calls the listeners when it changes (no
//! borrow held while they run). Browsers' `online`/`offline` events are reported too.

use js_sys::Function;
use registry_core::client::status::{Event, Status, Tracker};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

use crate::shared::SharedRef;

/// The status, its listeners, and the runtime listeners to remove on close.
pub struct StatusState {
    /// The state machine.
    pub tracker: Tracker,
    /// `onStatus` callbacks, by id.
    pub listeners: Vec<(u64, Function)>,
    /// The last listener id.
    pub next_listener: u64,
    /// `online`/`offline` listeners on the global object.
    pub runtime: Vec<(&'static str, Function)>,
}

impl StatusState {
    /// A new client's status (`long-poll` from the start when it only uses long polls).
    pub fn new(long_poll: bool) -> Self {
        StatusState {
            tracker: Tracker::new(long_poll),
            listeners: Vec::new(),
            next_listener: 0,
            runtime: Vec::new(),
        }
    }
}

/// Reports an I/O event; calls the listeners with the new status name when it changed.
pub fn report(shared: &SharedRef, event: Event) {
    let (status, listeners) = {
        let mut s = shared.borrow_mut();
        let Some(status) = s.status.tracker.on(event) else {
            return;
        };
        let listeners: Vec<Function> = s.status.listeners.iter().map(|(_, f)| f.clone()).collect();
        (status, listeners)
    };
    let name = JsValue::from_str(status.name());
    for f in listeners {
        // A throwing listener must not break the others, nor the transport.
        let _ = f.call1(&JsValue::UNDEFINED, &name);
    }
    if status == Status::Closed {
        remove_runtime_listeners(shared);
    }
}

/// Adds a status listener; returns the function that removes it.
pub fn subscribe(shared: &SharedRef, callback: Function) -> Function {
    let id = {
        let mut s = shared.borrow_mut();
        s.status.next_listener += 1;
        let id = s.status.next_listener;
        s.status.listeners.push((id, callback));
        id
    };
    let weak = std::rc::Rc::downgrade(shared);
    Closure::<dyn FnMut()>::new(move || {
        if let Some(shared) = weak.upgrade() {
            shared
                .borrow_mut()
                .status
                .listeners
                .retain(|(i, _)| *i != id);
        }
    })
    .into_js_value()
    .unchecked_into()
}

/// Listens to the runtime's `online`/`offline` events where the global object has them
/// (browsers); reports `offline` at once when `navigator.onLine` is false.
pub fn watch_runtime(shared: &SharedRef) {
    let global = js_sys::global();
    let navigator = js_sys::Reflect::get(&global, &"navigator".into()).unwrap_or_default();
    let on_line = js_sys::Reflect::get(&navigator, &"onLine".into()).unwrap_or_default();
    let Ok(target) = global.dyn_into::<EventTarget>() else {
        return;
    };
    let mut runtime = Vec::new();
    for (name, event) in [
        ("online", Event::RuntimeOnline),
        ("offline", Event::RuntimeOffline),
    ] {
        let weak = std::rc::Rc::downgrade(shared);
        let f: Function = Closure::<dyn FnMut()>::new(move || {
            if let Some(shared) = weak.upgrade() {
                report(&shared, event);
                if event == Event::RuntimeOnline {
                    crate::ws::retry_now(&shared);
                }
            }
        })
        .into_js_value()
        .unchecked_into();
        if target.add_event_listener_with_callback(name, &f).is_ok() {
            runtime.push((name, f));
        }
    }
    shared.borrow_mut().status.runtime = runtime;
    if on_line == JsValue::FALSE {
        report(shared, Event::RuntimeOffline);
    }
}

fn remove_runtime_listeners(shared: &SharedRef) {
    let runtime = std::mem::take(&mut shared.borrow_mut().status.runtime);
    if let Ok(target) = js_sys::global().dyn_into::<EventTarget>() {
        for (name, f) in runtime {
            let _ = target.remove_event_listener_with_callback(name, &f);
        }
    }
}
