//! `AbortSignal` helpers: run something when a signal aborts (and stop listening when it no
//! longer matters), or race a future against a signal.

use std::future::Future;

use futures_channel::oneshot;
use futures_util::future::{select, Either};
use js_sys::Function;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::convert::get;

/// `options.signal`, when it is an `AbortSignal`.
pub fn signal_of(options: &JsValue) -> Option<AbortSignal> {
    get(options, "signal").dyn_into::<AbortSignal>().ok()
}

/// Whether `options.signal` has already aborted.
pub fn already_aborted(options: &JsValue) -> bool {
    signal_of(options).is_some_and(|s| s.aborted())
}

/// An `abort` listener; dropping it removes the listener.
pub struct Listener {
    signal: AbortSignal,
    callback: Function,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", &self.callback);
    }
}

/// Calls `f` once when `signal` aborts (at once if it already has, returning `None`). Keep the
/// listener as long as `f` may matter.
pub fn on_abort(signal: &AbortSignal, f: impl FnOnce() + 'static) -> Option<Listener> {
    if signal.aborted() {
        f();
        return None;
    }
    let mut f = Some(f);
    // GC-owned: the listener may run while the Rust side drops its `Listener`.
    let callback: Function = Closure::<dyn FnMut()>::new(move || {
        if let Some(f) = f.take() {
            f();
        }
    })
    .into_js_value()
    .unchecked_into();
    signal
        .add_event_listener_with_callback("abort", &callback)
        .ok()?;
    Some(Listener {
        signal: signal.clone(),
        callback,
    })
}

/// Runs `fut`, or rejects with the signal's reason as soon as it aborts.
pub async fn race<T>(
    fut: impl Future<Output = Result<T, JsValue>>,
    signal: Option<AbortSignal>,
) -> Result<T, JsValue> {
    let Some(signal) = signal else {
        return fut.await;
    };
    if signal.aborted() {
        return Err(signal.reason());
    }
    let (tx, rx) = oneshot::channel::<()>();
    let _listener = on_abort(&signal, move || {
        let _ = tx.send(());
    });
    match select(Box::pin(fut), rx).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(signal.reason()),
    }
}
