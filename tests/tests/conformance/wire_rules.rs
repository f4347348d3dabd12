//! §1.1 general rules and §1.2 query parameters.

use registry_tests::Harness;

#[test]
fn only_consumer_and_provider_exist_and_other_paths_are_404() {
    let mut h = Harness::new();
    for path in ["/", "/consumer/", "/consumers", "/provider/x", "/v2"] {
        for method in ["GET", "PUT", "POST"] {
            let r = h.call(method, path, "");
            assert_eq!(r.status, 404, "{method} {path}");
            assert_eq!(r.json_body()["error"]["code"], "not_found");
        }
    }
}

#[test]
fn methods_other_than_get_and_put_are_405() {
    let mut h = Harness::new();
    for path in ["/consumer", "/provider"] {
        for method in ["POST", "DELETE", "PATCH", "HEAD", "OPTIONS"] {
            let r = h.call(method, path, "");
            assert_eq!(r.status, 405, "{method} {path}");
            assert_eq!(r.json_body()["error"]["code"], "method_not_allowed");
        }
    }
}

#[test]
fn errors_are_json_with_code_and_message() {
    let mut h = Harness::new();
    let r = h.get("/consumer?wait=abc");
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json_body();
    assert_eq!(body["error"]["code"], "invalid_wait");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("invalid wait parameter"));
}

#[test]
fn successful_get_is_json_ending_with_newline_with_sorted_keys() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"b":{"value":2},"a":{"value":{"z":1,"y":2},"metadata":{"unit":"C"}}}}"#,
    );
    let r = h.get("/consumer");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        "{\"registers\":{\"a\":{\"metadata\":{\"unit\":\"C\"},\"value\":{\"y\":2,\"z\":1}},\"b\":{\"value\":2}}}\n"
    );
}

#[test]
fn successful_puts_are_204_and_202_without_body() {
    let mut h = Harness::new();
    let r = h.put("/provider", r#"{"registers":{"t":{"value":1}}}"#);
    assert_eq!(
        (r.status, r.body.len(), r.header("content-type")),
        (204, 0, None)
    );
    let r = h.put("/consumer", r#"{"registers":{"t":{"value":2}}}"#);
    assert_eq!(
        (r.status, r.body.len(), r.header("content-type")),
        (202, 0, None)
    );
}

#[test]
fn numbers_round_trip_exactly() {
    // A documented difference from reg (which renumbers through float64): SPEC §3. Digits are
    // kept exactly; only an exponent is written in its canonical `e+` form.
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"n":{"value":[25.0,1e21,12345678901234567890,0.1]}}}"#,
    );
    let r = h.get("/consumer?name=n");
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        "{\"registers\":{\"n\":{\"value\":[25.0,1e+21,12345678901234567890,0.1]}}}\n"
    );
}

#[test]
fn unknown_fields_are_ignored_and_duplicate_keys_take_the_last() {
    let mut h = Harness::new();
    let r = h.put(
        "/provider",
        r#"{"extra":1,"registers":{"t":{"value":1,"value":2,"color":"red"}}}"#,
    );
    assert_eq!(r.status, 204);
    assert_eq!(h.registers("name=t")["t"]["value"], 2);
}

#[test]
fn query_strings_on_put_and_bodies_on_get_are_ignored() {
    let mut h = Harness::new();
    assert_eq!(
        h.put(
            "/provider?name=zzz&wait=bad",
            r#"{"registers":{"t":{"value":1}}}"#
        )
        .status,
        204
    );
    let r = h.call("GET", "/consumer", "not json at all");
    assert_eq!(r.status, 200);
}

#[test]
fn names_params_follow_reg() {
    let mut h = Harness::new();
    h.put(
        "/provider",
        r#"{"registers":{"temp":{"value":1},"humidity":{"value":2},"pressure":{"value":3},"":{"value":4},"a,b":{"value":5}}}"#,
    );
    let keys = |v: serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(h.registers("name=temp")), ["temp"]);
    assert_eq!(
        keys(h.registers("name=temp&name=humidity")),
        ["humidity", "temp"]
    );
    assert_eq!(
        keys(h.registers("names=temp,humidity,pressure")),
        ["humidity", "pressure", "temp"]
    );
    assert_eq!(
        keys(h.registers("name=temp&names=humidity,pressure")),
        ["humidity", "pressure", "temp"]
    );
    assert_eq!(keys(h.registers("")).len(), 5);
    assert_eq!(
        keys(h.registers("names=")).len(),
        5,
        "an empty names= means all"
    );
    assert_eq!(
        keys(h.registers("name=")),
        [""],
        "name= asks for the register named \"\""
    );
    assert_eq!(
        keys(h.registers("names=temp,,humidity")),
        ["", "humidity", "temp"]
    );
    assert_eq!(
        keys(h.registers("name=a%2Cb")),
        ["a,b"],
        "a comma only through name="
    );
}

#[test]
fn wait_parsing_follows_go_durations() {
    let mut h = Harness::new();
    for bad in ["abc", "5", "5S", "1d", "1e3s", "invalid", "1%20s"] {
        let r = h.get(&format!("/consumer?wait={bad}"));
        assert_eq!(r.status, 400, "wait={bad}");
        let r = h.get(&format!("/provider?wait={bad}"));
        assert_eq!(r.status, 400, "provider wait={bad}");
    }
    for immediate in ["-1s", "0", "", "0s"] {
        assert_eq!(
            h.get(&format!("/consumer?wait={immediate}")).status,
            200,
            "wait={immediate}"
        );
    }
    // Only the first wait counts.
    assert_eq!(h.get("/consumer?wait=0&wait=bad").status, 200);
}
