//! The wire format of every stream message, pinned byte for byte, and the round trip of
//! client and server messages through their one definition.

use super::*;

fn client(text: &str) -> ClientMsg {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn client_messages_round_trip_through_their_one_definition() {
    let texts = [
        r#"{"type":"watch","watch":"w1","names":["a","b"],"since":41}"#,
        r#"{"type":"watch","watch":"w2","where":[".kind=register"]}"#,
        r#"{"type":"unwatch","watch":"w1"}"#,
        r#"{"type":"provide","registers":{"a":{"metadata":{},"ttl":"10s","value":1.50}}}"#,
        r#"{"type":"unprovide","names":["a"]}"#,
        r#"{"type":"request","name":"a","value":{"x":[1,null]}}"#,
        r#"{"type":"verdict","request":12,"accept":true,"reason":"ok","apply":true}"#,
        r#"{"type":"verdict","request":12,"accept":false}"#,
        r#"{"type":"validate","validator":"v1","where":[".kind=switch"]}"#,
        r#"{"type":"unvalidate","validator":"v1"}"#,
        r#"{"type":"decide","tx":3,"validator":"v1","accept":false,"reason":"no"}"#,
        r#"{"type":"ping"}"#,
    ];
    for text in texts {
        assert_eq!(client(text).to_text(), text);
    }
}

#[test]
fn a_client_frame_carries_its_ref_first() {
    let msg = client(r#"{"type":"unwatch","watch":"w1"}"#);
    let framed = |reference| {
        Outbound {
            reference,
            msg: &msg,
        }
        .to_text()
    };
    assert_eq!(
        framed(Ref::Number(7)),
        r#"{"ref":7,"type":"unwatch","watch":"w1"}"#
    );
    assert_eq!(
        framed(Ref::Id("w1")),
        r#"{"ref":"w1","type":"unwatch","watch":"w1"}"#
    );
    let raw = |t: &str| RawValue::from_string(t.into()).unwrap();
    assert_eq!(Ref::of(Some(&raw("7"))), Some(Ref::Number(7)));
    assert_eq!(Ref::of(Some(&raw("\"w1\""))), Some(Ref::Id("w1")));
    assert_eq!(Ref::of(Some(&raw("null"))), None);
    assert_eq!(Ref::of(None), None);
}

#[test]
fn client_messages_refuse_unknown_fields_and_types() {
    for text in [
        r#"{"type":"unwatch","watch":"w1","x":1}"#,
        r#"{"type":"nope"}"#,
        r#"{"type":"verdict","request":-1,"accept":true}"#,
        r#"{"type":"provide","registers":[]}"#,
    ] {
        assert!(serde_json::from_str::<ClientMsg>(text).is_err(), "{text}");
    }
}

fn raw_of(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_string()).unwrap()
}

#[test]
fn server_messages_have_their_documented_bytes_and_decode_back() {
    let entries = raw_of(r#"[{"id":"a"}]"#);
    let ops = raw_of(r#"[{"op":"delete","id":"a","entry":null}]"#);
    let value = raw_of("25.0");
    let error = raw_of(r#"{"code":"x","message":"y"}"#);
    let one = raw_of("1");
    let cases: Vec<(ServerMsg, &str)> = vec![
        (
            ServerMsg::Snapshot(Snapshot {
                watch: "w".into(),
                version: 3,
                entries: &entries,
            }),
            r#"{"type":"snapshot","watch":"w","version":3,"entries":[{"id":"a"}]}"#,
        ),
        (
            ServerMsg::Change(Change {
                watch: "w".into(),
                version: 4,
                actor: "ttl".into(),
                ops: &ops,
            }),
            r#"{"type":"change","watch":"w","version":4,"actor":"ttl","ops":[{"op":"delete","id":"a","entry":null}]}"#,
        ),
        (
            ServerMsg::Synced(Synced {
                watch: "w".into(),
                version: 4,
            }),
            r#"{"type":"synced","watch":"w","version":4}"#,
        ),
        (
            ServerMsg::Request(Delivered {
                request: 12,
                name: "a".into(),
                value: &value,
            }),
            r#"{"type":"request","request":12,"name":"a","value":25.0}"#,
        ),
        (
            ServerMsg::Outcome(Outcome {
                request: 12,
                name: "a".into(),
                status: "accepted".into(),
                reason: None,
            }),
            r#"{"type":"outcome","request":12,"name":"a","status":"accepted","reason":null}"#,
        ),
        (
            ServerMsg::Validate(Ask {
                tx: 3,
                validator: "v1".into(),
                ops: &ops,
                deadline: 9,
            }),
            r#"{"type":"validate","tx":3,"validator":"v1","ops":[{"op":"delete","id":"a","entry":null}],"deadline":9}"#,
        ),
        (
            ServerMsg::Ok(Reply {
                reference: Some(&one),
                request: Some(5),
                status: Some("pending".into()),
                ..Reply::default()
            }),
            r#"{"type":"ok","ref":1,"request":5,"status":"pending"}"#,
        ),
        (
            ServerMsg::Error(Refusal {
                reference: None,
                error: &error,
            }),
            r#"{"type":"error","error":{"code":"x","message":"y"}}"#,
        ),
        (ServerMsg::Pong, r#"{"type":"pong"}"#),
    ];
    for (msg, text) in cases {
        assert_eq!(msg.to_text(), text);
        let back = ServerMsg::decode(text).unwrap().expect("a known type");
        assert_eq!(back.to_text(), text, "decoded and encoded again");
        assert_eq!(back.event(), msg.event());
    }
    assert!(ServerMsg::decode(r#"{"type":"later","x":1}"#)
        .unwrap()
        .is_none());
}

#[test]
fn an_ok_reply_with_a_request_record_decodes_its_fields() {
    let text = r#"{"type":"ok","ref":"w1","request":5,"name":"a","value":{"b":1},"status":"accepted","reason":"fine","extra":true}"#;
    let Some(ServerMsg::Ok(reply)) = ServerMsg::decode(text).unwrap() else {
        panic!("an ok")
    };
    assert_eq!(Ref::of(reply.reference), Some(Ref::Id("w1")));
    assert_eq!(reply.request, Some(5));
    assert_eq!(reply.value.map(RawValue::get), Some(r#"{"b":1}"#));
    assert_eq!(reply.reason.as_deref(), Some("fine"));
}
