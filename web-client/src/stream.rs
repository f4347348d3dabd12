//! The machinery shared by every stream class: an async-iterator queue plus callback
//! subscribers. JS is never called while a `RefCell` borrow is held: [`push`] and [`finish`]
//! collect what to call, drop the borrow, then call.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;

use crate::convert::iter_result;

#[wasm_bindgen(inline_js = "export function make_async_iterable(obj) {
  const proto = Object.getPrototypeOf(obj);
  if (!Object.prototype.hasOwnProperty.call(proto, Symbol.asyncIterator)) {
    Object.defineProperty(proto, Symbol.asyncIterator, { value: function () { return this; } });
  }
}")]
extern "C" {
    /// Gives the class of `obj` a `[Symbol.asyncIterator]` that returns the object itself (the
    /// class has `next()` and `return()`), so `for await (… of stream)` works.
    pub fn make_async_iterable(obj: &JsValue);
}

/// How a stream buffers items nobody has taken yet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Buffering {
    /// Keep only the latest item (live values: a slow reader skips to the newest).
    Latest,
    /// Keep every item in order, up to this many (oldest dropped beyond).
    Queue(usize),
}

/// State of one stream.
pub struct StreamCore {
    buffering: Buffering,
    queue: VecDeque<JsValue>,
    /// Resolve and reject functions of `next()` calls waiting for an item.
    waiting: VecDeque<(Function, Function)>,
    /// Set when the stream ended with an error: `next()` rejects with it.
    error: Option<JsValue>,
    callbacks: Vec<(u32, Function)>,
    next_callback: u32,
    closed: bool,
    /// Runs once when the stream ends (unregisters it from the client).
    on_close: Option<Box<dyn FnOnce()>>,
}

/// A shared handle to a stream's state.
pub type Stream = Rc<RefCell<StreamCore>>;

/// A new open stream.
pub fn new_stream(buffering: Buffering) -> Stream {
    Rc::new(RefCell::new(StreamCore {
        buffering,
        queue: VecDeque::new(),
        waiting: VecDeque::new(),
        callbacks: Vec::new(),
        next_callback: 0,
        error: None,
        closed: false,
        on_close: None,
    }))
}

/// Sets what runs when the stream ends.
pub fn on_close(stream: &Stream, f: impl FnOnce() + 'static) {
    stream.borrow_mut().on_close = Some(Box::new(f));
}

/// Delivers an item to a waiting `next()` (or the buffer) and to every callback.
pub fn push(stream: &Stream, item: JsValue) {
    let (resolve, callbacks) = {
        let mut s = stream.borrow_mut();
        if s.closed {
            return;
        }
        let resolve = s.waiting.pop_front();
        if resolve.is_none() {
            match s.buffering {
                Buffering::Latest => {
                    s.queue.clear();
                    s.queue.push_back(item.clone());
                }
                Buffering::Queue(max) => {
                    if s.queue.len() >= max {
                        s.queue.pop_front();
                    }
                    s.queue.push_back(item.clone());
                }
            }
        }
        let callbacks: Vec<Function> = s.callbacks.iter().map(|(_, f)| f.clone()).collect();
        (resolve, callbacks)
    };
    if let Some((resolve, _)) = resolve {
        let _ = resolve.call1(&JsValue::NULL, &iter_result(&item, false));
    }
    for cb in callbacks {
        // A throwing subscriber must not break delivery to the others.
        let _ = cb.call1(&JsValue::NULL, &item);
    }
}

/// The same item for each of `streams`, to [`push`] once no borrow is held.
pub fn fan_out(streams: &[Stream], item: &JsValue) -> Vec<(Stream, JsValue)> {
    streams.iter().map(|s| (s.clone(), item.clone())).collect()
}

/// `next()`: the next item, waiting for one if needed; `{done: true}` once ended.
pub fn next(stream: &Stream) -> Promise {
    let mut s = stream.borrow_mut();
    if let Some(item) = s.queue.pop_front() {
        return Promise::resolve(&iter_result(&item, false));
    }
    if let Some(e) = &s.error {
        return Promise::reject(e);
    }
    if s.closed {
        return Promise::resolve(&iter_result(&JsValue::UNDEFINED, true));
    }
    let mut resolver = None;
    let promise = Promise::new(&mut |resolve, reject| resolver = Some((resolve, reject)));
    s.waiting
        .push_back(resolver.expect("Promise runs its executor at once"));
    promise
}

/// Whether the stream has ended.
pub fn is_closed(stream: &Stream) -> bool {
    stream.borrow().closed
}

/// Adds a callback; returns the function that removes it.
pub fn subscribe(stream: &Stream, callback: Function) -> Function {
    let id = {
        let mut s = stream.borrow_mut();
        s.next_callback += 1;
        let id = s.next_callback;
        s.callbacks.push((id, callback));
        id
    };
    let weak = Rc::downgrade(stream);
    let unsubscribe = Closure::<dyn FnMut()>::new(move || {
        if let Some(stream) = weak.upgrade() {
            stream.borrow_mut().callbacks.retain(|(i, _)| *i != id);
        }
    });
    unsubscribe.into_js_value().unchecked_into()
}

/// Ends the stream: pending `next()` calls resolve `{done: true}`, callbacks are dropped, and
/// the close hook runs. Idempotent.
pub fn finish(stream: &Stream) {
    end(stream, None);
}

/// Ends the stream with an error: pending and later `next()` calls reject with it (a `for
/// await` loop throws it), callbacks are dropped, and the close hook runs. No-op once ended.
pub fn fail(stream: &Stream, error: JsValue) {
    end(stream, Some(error));
}

fn end(stream: &Stream, error: Option<JsValue>) {
    let (waiting, hook) = {
        let mut s = stream.borrow_mut();
        if s.closed {
            return;
        }
        s.closed = true;
        s.callbacks.clear();
        s.queue.clear();
        s.error = error.clone();
        (std::mem::take(&mut s.waiting), s.on_close.take())
    };
    for (resolve, reject) in waiting {
        let _ = match &error {
            Some(e) => reject.call1(&JsValue::NULL, e),
            None => resolve.call1(&JsValue::NULL, &iter_result(&JsValue::UNDEFINED, true)),
        };
    }
    if let Some(hook) = hook {
        hook();
    }
}
