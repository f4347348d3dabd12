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

/// JSON text as a payload of a client message (`None`: not JSON).
pub fn raw(text: String) -> Option<Box<serde_json::value::RawValue>> {
    serde_json::value::RawValue::from_string(text).ok()
}

/// A JS value as a payload of a client message (`None` for values JSON cannot express).
pub fn raw_of(value: &JsValue) -> Option<Box<serde_json::value::RawValue>> {
    raw(stringify(value)?)
}

/// A pre-serialized payload of a server message (entries, operations, a value) as a JS value.
pub fn raw_js(raw: &serde_json::value::RawValue) -> JsValue {
    parse(raw.get()).unwrap_or(JsValue::UNDEFINED)
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

/// The JS `Error` for a registry error object `{code, message, reasons?}` (a WebSocket
/// `error` reply): the registry's message, with `code` (and `reasons`) properties.
pub fn registry_error(err: &JsValue, fallback: &str) -> JsValue {
    let message = get(err, "message")
        .as_string()
        .unwrap_or_else(|| fallback.to_string());
    coded_error(message, err)
}

/// A JS `Error` with `message` and the `code` (and `reasons`, when present) of a registry
/// error object.
pub fn coded_error(message: impl AsRef<str>, err: &JsValue) -> JsValue {
    let e = error(message);
    let _ = Reflect::set(&e, &"code".into(), &get(err, "code"));
    let reasons = get(err, "reasons");
    if !reasons.is_undefined() {
        let _ = Reflect::set(&e, &"reasons".into(), &reasons);
    }
    e
}

/// A string as a JSON string literal.
pub fn json_string(s: &str) -> String {
    stringify(&JsValue::from_str(s)).unwrap_or_default()
}

/// `obj[key]` as a non-negative integer.
pub fn get_u64(obj: &JsValue, key: &str) -> Option<u64> {
    get(obj, key)
        .as_f64()
        .filter(|n| *n >= 0.0 && n.fract() == 0.0)
        .map(|n| n as u64)
}

/// A registry version as JS: a number, or `null` when unknown.
pub fn version_js(version: Option<u64>) -> JsValue {
    version.map_or(JsValue::NULL, |v| JsValue::from_f64(v as f64))
}

/// A JS number as a `u64`, if it is a non-negative safe integer (at most 2^53 − 1).
pub fn safe_u64(n: f64) -> Option<u64> {
    (n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0).then_some(n as u64)
}

/// The message of a thrown value: `error.message`, or the value as text.
pub fn message_of(thrown: &JsValue) -> String {
    get(thrown, "message")
        .as_string()
        .or_else(|| thrown.as_string())
        .or_else(|| stringify(thrown))
        .unwrap_or_else(|| "unknown error".into())
}
