//! Architect flows (read-only here): `GET /api/v2/flows` and `/api/v2/flows/{flowId}`.
//!
//! - `type` takes the lowercase query values (`inboundshortmessage`) and may
//!   repeat; responses carry the uppercase enum (`INBOUNDSHORTMESSAGE`).
//! - `name` is a case-insensitive substring filter (the real one is fuzzy;
//!   callers compare exactly). `id` (repeatable) ignores every other filter,
//!   as documented. Default order is `sortBy=id`, as the real API.
//! - pageSize up to 500 (what the provider uses; UNVERIFIED).

use crate::sandbox::resource::{Filter, Op, Order, Resource, Spec};
use crate::sandbox::store::Kind;

pub struct Flows;

impl Resource for Flows {
    const SPEC: Spec = Spec {
        filters: &[
            Filter::IdsOnly,
            Filter::NameContains,
            Filter::OneOf("type", "type", TYPES),
            Filter::Ref("divisionId", "division"),
        ],
        order: Order::IdOrName,
        max_page_size: Some(500),
        dates: false,
        refs: &[("division", Kind::Divisions)],
        flags: &[(Op::Read, "deleted")],
        ..Spec::new(Kind::Flows, "/api/v2/flows", "/api/v2/flows/{flowId}", "flow")
    };
}

/// The `type` query values of `GET /api/v2/flows`.
const TYPES: &[&str] = &[
    "bot",
    "commonmodule",
    "digitalbot",
    "emailsend",
    "inboundcall",
    "inboundchat",
    "inboundemail",
    "inboundshortmessage",
    "outboundcall",
    "inqueuecall",
    "inqueueemail",
    "inqueueshortmessage",
    "speech",
    "securecall",
    "surveyinvite",
    "voice",
    "voicemail",
    "voicesurvey",
    "workflow",
    "workitem",
];
