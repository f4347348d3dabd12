//! Authorization end to end inside the core: configuration → credentials → principal →
//! decisions, for every role and every action.

use super::*;
use crate::stream::message::ClientMsg;

const ISSUE_CONFIG: &str = r#"[
  {"name": "ops",        "token": "s3cr3t-ops",   "role": "admin"},
  {"name": "kitchen-pi", "token": "s3cr3t-pi",    "role": "provider", "registries": ["home"], "prefixes": ["kitchen."]},
  {"name": "panel",      "token": "s3cr3t-panel", "role": "consumer", "registries": ["home", "lab-*"]}
]"#;

fn config() -> AuthConfig {
    AuthConfig::parse(Some(ISSUE_CONFIG)).unwrap()
}

fn request<'a>(
    registry: &'a str,
    method: &'a str,
    path: &'a str,
    authorization: Option<&'a str>,
) -> AuthRequest<'a> {
    AuthRequest {
        registry,
        method,
        path,
        credentials: CredentialSources {
            authorization,
            ..Default::default()
        },
    }
}

fn status(r: Result<Principal, crate::api::ApiError>) -> u16 {
    r.map(|_| 200).unwrap_or_else(|e| e.status)
}

#[test]
fn bearer_and_basic_authenticate() {
    let c = config();
    let bearer = authorize(
        &c,
        &request("home", "GET", "/consumer", Some("Bearer s3cr3t-pi")),
    );
    assert_eq!(bearer.unwrap().name(), Some("kitchen-pi"));
    // Basic `x:s3cr3t-pi` (what Go's and curl's clients send for http://x:s3cr3t-pi@host/).
    let basic = authorize(
        &c,
        &request("home", "GET", "/consumer", Some("Basic eDpzM2NyM3QtcGk=")),
    );
    assert_eq!(basic.unwrap().name(), Some("kitchen-pi"));
}

#[test]
fn missing_wrong_and_malformed_tokens_are_401_with_one_body() {
    let c = config();
    let ok = request("home", "GET", "/consumer", Some("Bearer s3cr3t-ops"));
    assert_eq!(status(authorize(&c, &ok)), 200, "positive control");
    let answers: Vec<_> = [
        None,
        Some("Bearer s3cr3t-opz"), // same length, last byte differs
        Some("Bearer x3cr3t-ops"), // same length, first byte differs
        Some("Bearer s3cr3t-op"),  // a prefix of a real token
        Some("Bearer s3cr3t-ops-"),
        Some("Bearer "),
        Some("Bearer a b"),
        Some("Basic eDpzM2NyM3QtcG"),    // x:s3cr3t-p
        Some("Basic eDpzM2NyM3QtcGk=="), // bad padding
        Some("Digest s3cr3t-ops"),
    ]
    .into_iter()
    .map(|h| authorize(&c, &request("home", "GET", "/consumer", h)).unwrap_err())
    .collect();
    for e in &answers {
        assert_eq!(e, &answers[0]);
        assert_eq!(e.status, 401);
    }
    let response = answers[0].to_response();
    assert_eq!(
        response.header("www-authenticate"),
        Some("Bearer realm=\"registry\"")
    );
    assert_eq!(response.json_body()["error"]["code"], "unauthorized");
    // A 403 carries no challenge.
    assert_eq!(forbidden().to_response().header("www-authenticate"), None);
}

#[test]
fn out_of_scope_is_403_and_never_says_why() {
    let c = config();
    let wrong_registry = authorize(
        &c,
        &request("garage", "GET", "/consumer", Some("Bearer s3cr3t-pi")),
    )
    .unwrap_err();
    let wrong_role = authorize(
        &c,
        &request("home", "POST", "/v1/rollback", Some("Bearer s3cr3t-pi")),
    )
    .unwrap_err();
    let p = config().lookup("s3cr3t-pi").unwrap().clone();
    let wrong_id = check(&p, Action::ProviderPublish, "garage.door").unwrap_err();
    assert_eq!(wrong_registry.status, 403);
    assert_eq!(wrong_registry, wrong_role);
    assert_eq!(wrong_role, wrong_id);
    assert!(check(&p, Action::ProviderPublish, "kitchen.lamp").is_ok());
}

#[test]
fn registry_wildcards_through_authorize() {
    let c = config();
    let panel = |registry| {
        status(authorize(
            &c,
            &request(registry, "GET", "/v1/entries", Some("Bearer s3cr3t-panel")),
        ))
    };
    assert_eq!(panel("home"), 200);
    assert_eq!(panel("lab-1"), 200);
    assert_eq!(panel("lab-"), 200);
    assert_eq!(panel("lab"), 403);
    assert_eq!(panel("default"), 403);
    assert_eq!(panel("laboratory"), 403);
}

#[test]
fn rotation_two_tokens_one_name() {
    let c = AuthConfig::parse(Some(
        r#"[{"name":"pi","token":"old-token","role":"provider","prefixes":["kitchen."]},
            {"name":"pi","token":"new-token","role":"provider","prefixes":["kitchen."]}]"#,
    ))
    .unwrap();
    let old = c.lookup("old-token").unwrap();
    let new = c.lookup("new-token").unwrap();
    assert_eq!(old, new);
    assert_eq!(new.actor("provider"), "pi");
    // After the old entry is removed only the new token works.
    let after = AuthConfig::parse(Some(
        r#"[{"name":"pi","token":"new-token","role":"provider","prefixes":["kitchen."]}]"#,
    ))
    .unwrap();
    assert!(after.lookup("old-token").is_none());
    assert!(after.lookup("new-token").is_some());
}

#[test]
fn open_mode_allows_everything_without_a_token() {
    for text in [None, Some(""), Some("  \n")] {
        let c = AuthConfig::parse(text).unwrap();
        assert_eq!(c.mode(), "open");
        for action_path in [
            ("POST", "/v1/rollback"),
            ("PUT", "/v1/config"),
            ("GET", "/x"),
        ] {
            let r = request("any", action_path.0, action_path.1, None);
            assert_eq!(authorize(&c, &r).unwrap(), Principal::open());
        }
    }
    assert_eq!(config().mode(), "tokens");
}

/// The whole mapping, path by path (it must agree with `Service::route`).
#[test]
fn every_route_maps_to_its_action() {
    use Action::*;
    let table = [
        ("GET", "/v1/health", Health),
        ("GET", "/nowhere", Health),
        ("GET", "/consumer", RegisterRead),
        ("PUT", "/consumer", RequestCreate),
        ("GET", "/provider", ProviderTake),
        ("PUT", "/provider", ProviderPublish),
        ("GET", "/v1/entries", EntryRead),
        ("GET", "/v1/entries/kitchen.temp", EntryRead),
        ("GET", "/v1/entries/a%2Fb/dependencies", EntryRead),
        ("PUT", "/v1/entries/a%2Fb/dependencies", EntryRead),
        ("PUT", "/v1/entries/kitchen.temp", EntryWrite),
        ("DELETE", "/v1/entries/kitchen.temp", EntryWrite),
        ("POST", "/v1/tx", Transaction),
        ("GET", "/v1/tx", Health),
        ("GET", "/v1/versions", Versions),
        ("GET", "/v1/versions/3", Versions),
        ("GET", "/v1/diff", Diff),
        ("GET", "/v1/state", State),
        ("POST", "/v1/rollback", Rollback),
        ("GET", "/v1/config", ConfigRead),
        ("PUT", "/v1/config", ConfigWrite),
        ("POST", "/v1/requests", RequestCreate),
        ("POST", "/v1/requests/", RequestCreate),
        ("GET", "/v1/requests/7", RequestOutcome),
        ("POST", "/v1/requests/7/verdict", RequestVerdict),
        ("GET", "/v1/requestsx", Health),
        ("GET", "/v1/watch", Watch),
        ("GET", "/v1/ws", Socket),
        ("GET", "/metrics", Metrics),
        ("POST", "/metrics", Metrics),
        ("POST", "/mcp", Mcp),
        ("GET", "/mcp", Mcp),
        ("GET", "/%6Detrics", Metrics),
        // The router decodes other paths once: so does the mapping.
        ("POST", "/%761/tx", Transaction),
        ("PUT", "/%70rovider", ProviderPublish),
        ("POST", "/v1/%72ollback", Rollback),
        ("PUT", "/v1/%63onfig", ConfigWrite),
        ("GET", "/%zz", Health),
    ];
    for (method, path, action) in table {
        assert_eq!(Action::of_request(method, path), action, "{method} {path}");
    }
}

#[test]
fn every_message_maps_to_its_action() {
    let msg = |text: &str| {
        crate::stream::message::decode(text)
            .unwrap_or_else(|e| panic!("{text}: {}", e.1))
            .msg
    };
    let table = [
        (
            r#"{"type":"watch","watch":"w","names":["a"]}"#,
            Action::Watch,
        ),
        (r#"{"type":"unwatch","watch":"w"}"#, Action::Watch),
        (
            r#"{"type":"provide","registers":{"a":{"value":1}}}"#,
            Action::ProviderPublish,
        ),
        (
            r#"{"type":"unprovide","names":["a"]}"#,
            Action::ProviderPublish,
        ),
        (
            r#"{"type":"request","name":"a","value":1}"#,
            Action::RequestCreate,
        ),
        (
            r#"{"type":"verdict","request":1,"accept":true}"#,
            Action::RequestVerdict,
        ),
        (
            r#"{"type":"validate","validator":"v","where":[".kind=x"]}"#,
            Action::Validate,
        ),
        (r#"{"type":"unvalidate","validator":"v"}"#, Action::Validate),
        (
            r#"{"type":"decide","tx":1,"validator":"v","accept":true}"#,
            Action::Validate,
        ),
        (r#"{"type":"ping"}"#, Action::Socket),
    ];
    for (text, action) in table {
        assert_eq!(Action::of_message(&msg(text)), action, "{text}");
    }
    assert_eq!(Action::of_message(&ClientMsg::Ping), Action::Socket);
}

/// Every action for every kind of principal: the expected answer is written out per action,
/// independently of `min_role` / `needs_unrestricted`.
#[test]
fn every_action_for_every_role() {
    use Action::*;
    let c = |role| Principal::new("t", role, None, None);
    let narrow = |role| Principal::new("t", role, None, Some(vec!["kitchen.".into()]));
    // (action, consumer, provider, admin, admin restricted to a prefix)
    let expected = [
        (Health, true, true, true, true),
        (RegisterRead, true, true, true, true),
        (EntryRead, true, true, true, true),
        (Versions, true, true, true, true),
        (Diff, true, true, true, true),
        (State, true, true, true, true),
        (ConfigRead, true, true, true, true),
        (Watch, true, true, true, true),
        (Socket, true, true, true, true),
        (RequestCreate, true, true, true, true),
        (RequestOutcome, true, true, true, true),
        (ProviderPublish, false, true, true, true),
        (ProviderTake, false, true, true, true),
        (RequestVerdict, false, true, true, true),
        (EntryWrite, false, false, true, true),
        (Transaction, false, false, true, true),
        (Rollback, false, false, true, false),
        (ConfigWrite, false, false, true, false),
        (Validate, false, false, true, false),
        (Metrics, true, true, true, true),
        (Mcp, true, true, true, true),
    ];
    assert_eq!(expected.len(), Action::ALL.len());
    for (action, consumer, provider, admin, narrow_admin) in expected {
        assert_eq!(c(Role::Consumer).permits(action), consumer, "{action:?}");
        assert_eq!(c(Role::Provider).permits(action), provider, "{action:?}");
        assert_eq!(c(Role::Admin).permits(action), admin, "{action:?}");
        assert_eq!(
            narrow(Role::Admin).permits(action),
            narrow_admin,
            "{action:?}"
        );
        assert!(Principal::open().permits(action), "{action:?}");
        // Per id: in scope follows the role; out of scope is always refused.
        assert_eq!(
            narrow(Role::Admin).may(action, "kitchen.lamp"),
            narrow_admin,
            "{action:?}"
        );
        assert!(!narrow(Role::Admin).may(action, "kitchenette.lamp"));
        assert_eq!(narrow(Role::Consumer).may(action, "kitchen.x"), consumer);
        assert!(!narrow(Role::Consumer).may(action, "garage.door"));
    }
}

/// The same matrix through `authorize`, with the issue's tokens: a request reaches the
/// registry only when the role allows the path and the registry is in scope.
#[test]
fn authorize_matrix_with_the_issue_tokens() {
    let c = config();
    let routes = [
        ("GET", "/consumer", [200, 200, 200]),
        ("PUT", "/consumer", [200, 200, 200]),
        ("GET", "/provider", [403, 200, 200]),
        ("PUT", "/provider", [403, 200, 200]),
        ("GET", "/v1/entries", [200, 200, 200]),
        ("PUT", "/v1/entries/kitchen.x", [403, 403, 200]),
        ("POST", "/v1/tx", [403, 403, 200]),
        ("GET", "/v1/versions/1", [200, 200, 200]),
        ("GET", "/v1/diff", [200, 200, 200]),
        ("GET", "/v1/state", [200, 200, 200]),
        ("POST", "/v1/rollback", [403, 403, 200]),
        ("GET", "/v1/config", [200, 200, 200]),
        ("PUT", "/v1/config", [403, 403, 200]),
        ("POST", "/v1/requests", [200, 200, 200]),
        ("GET", "/v1/requests/1", [200, 200, 200]),
        ("POST", "/v1/requests/1/verdict", [403, 200, 200]),
        ("GET", "/v1/ws", [200, 200, 200]),
        ("GET", "/v1/watch", [200, 200, 200]),
        ("GET", "/v1/health", [200, 200, 200]),
    ];
    let tokens = [
        "Bearer s3cr3t-panel",
        "Bearer s3cr3t-pi",
        "Bearer s3cr3t-ops",
    ];
    for (method, path, answers) in routes {
        for (token, want) in tokens.iter().zip(answers) {
            let r = request("home", method, path, Some(token));
            assert_eq!(status(authorize(&c, &r)), want, "{token} {method} {path}");
            let none = request("home", method, path, None);
            assert_eq!(status(authorize(&c, &none)), 401, "{method} {path}");
            let wrong = request("home", method, path, Some("Bearer s3cr3t-pie"));
            assert_eq!(status(authorize(&c, &wrong)), 401, "{method} {path}");
        }
        // The provider is scoped to `home`: everything elsewhere is 403.
        let elsewhere = request("lab-1", method, path, Some("Bearer s3cr3t-pi"));
        assert_eq!(status(authorize(&c, &elsewhere)), 403, "{method} {path}");
    }
}

#[test]
fn stream_credentials_only_on_stream_paths() {
    let c = config();
    let with = |path: &'static str, protocol, query| AuthRequest {
        registry: "home",
        method: "GET",
        path,
        credentials: CredentialSources {
            authorization: None,
            websocket_protocol: protocol,
            query,
        },
    };
    let proto = Some("registry, bearer.s3cr3t-panel");
    assert_eq!(status(authorize(&c, &with("/v1/ws", proto, ""))), 200);
    assert_eq!(status(authorize(&c, &with("/v1/ws", None, ""))), 401);
    let q = "where=*&access_token=s3cr3t-panel";
    assert_eq!(status(authorize(&c, &with("/v1/watch", None, q))), 200);
    assert_eq!(status(authorize(&c, &with("/v1/entries", None, q))), 401);
    assert_eq!(status(authorize(&c, &with("/consumer", proto, ""))), 401);
}

#[test]
fn malformed_configs_say_what_is_wrong() {
    let entry = |fields: &str| format!("[{{{fields}}}]");
    let ok = r#""name":"a","token":"t0k3n","role":"admin""#;
    assert!(
        AuthConfig::parse(Some(&entry(ok))).is_ok(),
        "positive control"
    );
    let cases: Vec<(String, &str)> = vec![
        (
            "{".into(),
            "it is not valid JSON (EOF while parsing an object at line 1 column 1)",
        ),
        (
            r#"{"name":"a"}"#.into(),
            "it must be a JSON array of token objects, not an object",
        ),
        (
            "[]".into(),
            "it is an empty array; leave it unset or empty for open access",
        ),
        (
            "[1]".into(),
            "entry #1 must be an object with name, token and role, not a number",
        ),
        (
            entry(&format!("{ok},\"rol\":\"admin\"")),
            r#"entry #1: unknown field "rol" (allowed: name, token, role, registries, prefixes)"#,
        ),
        (
            entry(r#""token":"t","role":"admin""#),
            "entry #1: name is missing",
        ),
        (
            entry(r#""name":7,"token":"t","role":"admin""#),
            "entry #1: name must be a string, not a number",
        ),
        (
            entry(r#""name":"a b","token":"t","role":"admin""#),
            "entry #1: name must be 1-64 characters of A-Z a-z 0-9 . _ - @",
        ),
        (
            entry(r#""name":"api","token":"t","role":"admin""#),
            r#"entry #1 ("api"): the name is reserved for the registry's own actors (provider, api, rollback, ttl)"#,
        ),
        (
            entry(r#""name":"a","role":"admin""#),
            r#"entry #1 ("a"): entry #1: token is missing"#,
        ),
        (
            entry(r#""name":"a","token":"","role":"admin""#),
            r#"entry #1 ("a"): token is empty"#,
        ),
        (
            entry(r#""name":"a","token":"has space","role":"admin""#),
            r#"entry #1 ("a"): token must be 1-256 characters of A-Z a-z 0-9 - . _ ~ (e.g. the output of `openssl rand -hex 32`)"#,
        ),
        (
            entry(r#""name":"a","token":"t","role":"root""#),
            r#"entry #1 ("a"): role must be one of consumer, provider, admin"#,
        ),
        (
            entry(r#""name":"a","token":"t","role":"Admin""#),
            r#"entry #1 ("a"): role must be one of consumer, provider, admin"#,
        ),
        (
            entry(&format!("{ok},\"registries\":[]")),
            r#"entry #1 ("a"): registries is an empty array, which would allow nothing; omit it for all"#,
        ),
        (
            entry(&format!("{ok},\"registries\":\"home\"")),
            r#"entry #1 ("a"): registries must be an array of strings (omit it for all), not a string"#,
        ),
        (
            entry(&format!("{ok},\"registries\":[\"a/b\"]")),
            r#"entry #1 ("a"): registry pattern "a/b" must be 1-64 characters of A-Z a-z 0-9 . _ - and * (any characters)"#,
        ),
        (
            entry(&format!("{ok},\"prefixes\":[\"\"]")),
            r#"entry #1 ("a"): a prefix is empty; omit prefixes for every id"#,
        ),
        (
            entry(&format!("{ok},\"prefixes\":[1]")),
            r#"entry #1 ("a"): prefixes must contain strings only, not a number"#,
        ),
        (
            format!("[{{{ok}}},{{\"name\":\"b\",\"token\":\"t0k3n\",\"role\":\"consumer\"}}]"),
            r#"entry #2 ("b"): its token is the same as entry #1's ("a"); every token must be unique"#,
        ),
        (
            format!("[{{{ok}}},{{\"name\":\"a\",\"token\":\"other\",\"role\":\"consumer\"}}]"),
            r#"entry #2 ("a"): entry #1 has the same name with another role or scope; two tokens may share a name (rotation) only when they grant the same access"#,
        ),
    ];
    for (text, message) in cases {
        let e = AuthConfig::parse(Some(&text)).unwrap_err();
        assert_eq!(e.0, message, "{text}");
        assert_eq!(
            e.to_string(),
            format!("REGISTRY_TOKENS is invalid: {message}")
        );
        assert!(!e.0.contains("t0k3n"), "a token leaked: {e}");
    }
}

#[test]
fn no_message_ever_contains_a_token() {
    let text = r#"[{"name":"a","token":"SECRETVALUE","role":"SECRETVALUE"},
                   {"name":"b","token":"SECRETVALUE","role":"admin"}]"#;
    let e = AuthConfig::parse(Some(text)).unwrap_err();
    assert!(!e.to_string().contains("SECRETVALUE"), "{e}");
    let dup = r#"[{"name":"a","token":"SECRETVALUE","role":"admin"},
                  {"name":"b","token":"SECRETVALUE","role":"admin"}]"#;
    let e = AuthConfig::parse(Some(dup)).unwrap_err();
    assert!(e.to_string().contains("unique") && !e.to_string().contains("SECRETVALUE"));
    let valid = AuthConfig::parse(Some(
        r#"[{"name":"a","token":"SECRETVALUE","role":"admin"}]"#,
    ));
    let shown = format!("{valid:?}");
    assert!(
        shown.contains("PaddedToken") && !shown.contains("SECRETVALUE"),
        "{shown}"
    );
}
