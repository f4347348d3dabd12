//! JS value helpers: plain objects, JSON text, errors. All conversions live here.

use js_sys::{Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};

/// `obj[key]`, `undefined` when absent.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[key] = value` on a plain object.
pub fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// A plain object from key/value pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        set(&o, k, v);
    }
    o
}

/// `JSON.stringify(value)`; `None` for values JSON cannot express (`undefined`, functions).
pub fn stringify(value: &JsValue) -> Option<String> {
    JSON::stringify(value).ok().and_then(|s| s.as_string())
}

/// `JSON.parse(text)`.
pub fn parse(text: &str) -> Result<JsValue, JsValue> {
    JSON::parse(text)
}

/// The own enumerable keys of an object.
pub fn keys(obj: &JsValue) -> Vec<String> {
    match obj.dyn_ref::<Object>() {
        Some(o) => Object::keys(o)
            .iter()
            .filter_map(|k| k.as_string())
            .collect(),
        None => Vec::new(),
    }
}

/// A JS `Error` with a message.
pub fn error(message: impl AsRef<str>) -> JsValue {
    js_sys::Error::new(message.as_ref()).into()
}

/// `{ value, done }` for async iterators.
pub fn iter_result(value: &JsValue, done: bool) -> JsValue {
    object(&[("value", value.clone()), ("done", JsValue::from_bool(done))]).into()
}
