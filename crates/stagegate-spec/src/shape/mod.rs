//! The shape of every table a spec may hold: its keys, which of them are
//! required, what each holds and what it means. The decoder reads each
//! table through its shape (a key outside it is unknown, with the shape's
//! keys as the expected ones) and the JSON Schema is generated from the same
//! shapes, so the editor's completion and the loader cannot disagree. In
//! debug builds a table checks, when decoded, that the decoder asked for
//! exactly the shape's keys and required exactly the shape's required ones.

use crate::model::*;

mod environment;
mod monitoring;
#[cfg(test)]
mod tests;

pub(crate) use environment::*;
pub(crate) use monitoring::*;

/// The keys of one kind of table.
pub(crate) struct Shape {
    /// How messages name the table, e.g. "[product] table".
    pub what: &'static str,
    /// What one such table is, for the schema.
    pub doc: &'static str,
    pub fields: Fields,
}

pub(crate) enum Fields {
    Listed(&'static [Field]),
    /// One key per name, each holding the same kind of value; the doc says
    /// what one holds, with `{}` standing for the name.
    Each(&'static [&'static str], Ty, &'static str),
}

pub(crate) struct Field {
    pub key: &'static str,
    pub required: bool,
    pub ty: Ty,
    pub doc: &'static str,
}

/// What a key holds, as far as the schema is concerned (the decoder checks
/// more: ranges between fields, references, variables).
#[derive(Clone, Copy)]
pub(crate) enum Ty {
    Str,
    Bool,
    Duration,
    Date,
    /// A number above 0 and at most 100.
    Percent,
    Int {
        min: u32,
        max: Option<u32>,
    },
    Strings,
    Enum(&'static [&'static str]),
    Enums(&'static [&'static str]),
    Ints {
        min: u32,
        max: u32,
    },
    Table(&'static Shape),
    /// An array of tables (`[[key]]`).
    Tables(&'static Shape),
    /// A table of ids to tables (`[key.ID]`); `min` ids at least.
    Map(&'static Shape, u32),
    /// Anything else, described by a schema fragment of its own, with a
    /// valid TOML value as a sample (for the test that decodes every key).
    Schema(
        fn() -> serde_json::Value,
        #[cfg_attr(not(test), allow(dead_code))] &'static str,
    ),
}

impl Shape {
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        let (listed, each): (&[Field], &[&str]) = match &self.fields {
            Fields::Listed(f) => (f, &[]),
            Fields::Each(names, _, _) => (&[], names),
        };
        listed.iter().map(|f| f.key).chain(each.iter().copied())
    }

    /// The position of `key`, if the shape has it.
    pub fn index(&self, key: &str) -> Option<usize> {
        self.keys().position(|k| k == key)
    }

    #[cfg(debug_assertions)]
    pub fn is_required(&self, key: &str) -> bool {
        match &self.fields {
            Fields::Listed(f) => f.iter().any(|f| f.key == key && f.required),
            Fields::Each(..) => false,
        }
    }
}

pub(super) const fn req(key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        key,
        required: true,
        ty,
        doc,
    }
}

pub(super) const fn opt(key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        key,
        required: false,
        ty,
        doc,
    }
}

pub(super) const fn shape(
    what: &'static str,
    doc: &'static str,
    fields: &'static [Field],
) -> Shape {
    Shape {
        what,
        doc,
        fields: Fields::Listed(fields),
    }
}

pub(super) const COUNT: Ty = Ty::Int { min: 0, max: None };
pub(super) const POSITIVE: Ty = Ty::Int { min: 1, max: None };
pub(super) const PORT: Ty = Ty::Int {
    min: 1,
    max: Some(65535),
};

pub(crate) static SPEC: Shape = shape(
    "spec",
    "A product's rollout: environments, their rollout modes, and what each has in place.",
    &[
        opt("version", Ty::Schema(version, "1"), "Spec format version."),
        req("product", Ty::Table(&PRODUCT), "The product."),
        opt("policy", Ty::Table(&POLICY), "Policy knobs."),
        opt("contacts", Ty::Map(&CONTACT, 0), "People and teams, by id."),
        opt(
            "notifiers",
            Ty::Map(&NOTIFIER, 0),
            "Notification channels, by id.",
        ),
        req(
            "environments",
            Ty::Map(&ENVIRONMENT, 1),
            "Environments, by name.",
        ),
        opt(
            "waivers",
            Ty::Tables(&WAIVER),
            "Time-limited exceptions to rules.",
        ),
        opt(
            "attestations",
            Ty::Tables(&ATTESTATION),
            "Manual controls attested by a person, with evidence and an expiry.",
        ),
        opt(
            "applicability",
            Ty::Tables(&APPLICABILITY),
            "Controls that do not apply to the product, each with a reason and who approved leaving it out.",
        ),
        opt(
            "policies",
            Ty::Strings,
            "Files or folders of custom rules written in Rego (`.rego`), relative to the spec file.",
        ),
        opt(
            "escalations",
            Ty::Map(&ESCALATION, 0),
            "Escalation policies, by id: levels paged in turn until someone acknowledges.",
        ),
        opt(
            "rotations",
            Ty::Map(&ROTATION, 0),
            "On-call rotations, by id: `notify = [\"rotation:ID\"]` pages whoever is on call.",
        ),
        opt(
            "freeze",
            Ty::Tables(&FREEZE),
            "Windows in which no promotion is made (SG-PROMO-FREEZE).",
        ),
    ],
);

fn local_datetime() -> serde_json::Value {
    serde_json::json!({
        "type": "string",
        "description": "A local date and time in the window's time zone.",
        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?$",
        "examples": ["2026-12-20 00:00", "2026-12-20T00:00:00"],
    })
}

pub(crate) static ESCALATION: Shape = shape(
    "escalation",
    "Who is paged, level by level, while an incident stays unacknowledged.",
    &[
        req(
            "levels",
            Ty::Tables(&LEVEL),
            "The levels, in order of `after`.",
        ),
        opt(
            "repeat",
            Ty::Bool,
            "Page the last level again at every reminder until someone acknowledges (default false).",
        ),
    ],
);

pub(crate) static LEVEL: Shape = shape(
    "escalation level",
    "Recipients paged `after` the incident opened, unless it was acknowledged by then.",
    &[
        req(
            "after",
            Ty::Str,
            "How long after the incident opened, e.g. \"0m\" (at once) or \"15m\".",
        ),
        req("notify", Ty::Strings, "Contact ids or `rotation:ID`."),
    ],
);

pub(crate) static ROTATION: Shape = shape(
    "rotation",
    "An on-call rotation: members take shifts in turn from `start`, in `timezone`.",
    &[
        req(
            "members",
            Ty::Strings,
            "Contact ids, in the order they take shifts.",
        ),
        req(
            "shift",
            Ty::Duration,
            "How long each member is on call, e.g. \"7d\" (whole days keep their local start time across daylight-saving changes).",
        ),
        req(
            "start",
            Ty::Schema(local_datetime, "\"2026-12-01 09:00\""),
            "When the first member's first shift starts, local time in `timezone`.",
        ),
        req(
            "timezone",
            Ty::Str,
            "IANA time zone of `start` and of the overrides, e.g. \"Europe/Warsaw\".",
        ),
        opt(
            "overrides",
            Ty::Tables(&OVERRIDE),
            "Someone else on call for a while (holidays, swaps).",
        ),
    ],
);

pub(crate) static OVERRIDE: Shape = shape(
    "override",
    "A contact on call instead of the rotation's member, from `from` until `until`.",
    &[
        req("member", Ty::Str, "The contact id on call instead."),
        req(
            "from",
            Ty::Schema(local_datetime, "\"2026-12-24 09:00\""),
            "Start, local time in the rotation's `timezone`.",
        ),
        req(
            "until",
            Ty::Schema(local_datetime, "\"2026-12-27 09:00\""),
            "End (exclusive), local time in the rotation's `timezone`.",
        ),
    ],
);

pub(crate) static FREEZE: Shape = shape(
    "freeze window",
    "A window in which no promotion is made.",
    &[
        req(
            "start",
            Ty::Schema(local_datetime, "\"2026-12-20 00:00\""),
            "First moment of the window, local time in `timezone` (\"2026-12-20 00:00\").",
        ),
        req(
            "end",
            Ty::Schema(local_datetime, "\"2027-01-04 00:00\""),
            "End of the window (exclusive), local time in `timezone`.",
        ),
        req(
            "timezone",
            Ty::Str,
            "IANA time zone, e.g. \"Europe/Berlin\".",
        ),
        req("reason", Ty::Str, "Why, shown on refused promotions."),
        opt(
            "environments",
            Ty::Strings,
            "Environments frozen; every one when absent.",
        ),
    ],
);

pub(crate) static PROMOTION: Shape = shape(
    "[policy.promotion] table",
    "How promotions are gated on what the server observed; present, the SG-PROMO rules are required.",
    &[
        opt(
            "soak",
            Ty::Table(&SOAK),
            "How long an environment runs in a mode before it is promoted further.",
        ),
        opt(
            "backup_runs",
            POSITIVE,
            "Backup runs that must have reported success before production (default 3).",
        ),
        opt(
            "approvals",
            COUNT,
            "Approvals by others than the one promoting, before production (default 1).",
        ),
        opt(
            "approval_valid_for",
            Ty::Duration,
            "How long an approval stays valid (default 7d).",
        ),
    ],
);

pub(crate) static SOAK: Shape = shape(
    "[policy.promotion.soak] table",
    "Soak time per mode.",
    &[
        opt(
            "staging",
            Ty::Duration,
            "In staging before soft launch (default 3d).",
        ),
        opt(
            "soft-launch",
            Ty::Duration,
            "In soft launch before production (default 14d).",
        ),
    ],
);

fn version() -> serde_json::Value {
    serde_json::json!({ "const": 1, "description": "Spec format version." })
}

pub(crate) static PRODUCT: Shape = shape(
    "[product] table",
    "The product.",
    &[
        req("name", Ty::Str, "Product name."),
        opt("owner", Ty::Str, "Business owner."),
        opt("supporting_party", Ty::Str, "Who operates the product."),
        opt(
            "retains_user_data",
            Ty::Bool,
            "User data must survive into the production launch.",
        ),
        opt(
            "availability_target",
            Ty::Percent,
            "Availability target in percent, e.g. 99.9.",
        ),
        opt(
            "rpo",
            Ty::Duration,
            "Recovery point objective: max tolerated data loss.",
        ),
        opt("rto", Ty::Duration, "Recovery time objective."),
        opt("regions", Ty::Strings, "Markets served."),
        opt(
            "data_classes",
            Ty::Enums(DataClass::NAMES),
            "Kinds of data handled.",
        ),
        opt(
            "frameworks",
            Ty::Enums(Framework::NAMES),
            "Formal frameworks in force.",
        ),
        opt(
            "pci_role",
            Ty::Enum(PciRole::NAMES),
            "Under PCI DSS, `merchant` or `service-provider`: a merchant's report marks the requirements for service providers only not applicable.",
        ),
    ],
);

pub(crate) static POLICY: Shape = shape(
    "[policy] table",
    "Policy knobs.",
    &[
        opt(
            "cluster_required_at",
            Ty::Percent,
            "Availability target at or above which production needs a cluster (default 99.9).",
        ),
        opt(
            "pentest_max_age",
            Ty::Duration,
            "Maximum age of the latest pentest (default 365d).",
        ),
        opt(
            "accessibility_audit_max_age",
            Ty::Duration,
            "Maximum age of the latest accessibility audit (default 365d).",
        ),
        opt(
            "policy_timeout",
            Ty::Duration,
            "How long one custom Rego policy may take to judge one environment (default 2s).",
        ),
        opt(
            "evidence_roots",
            Ty::Strings,
            "Folders besides the spec's own that evidence files (runbooks, agreement, reports, attestation evidence, policies) may live in, relative to the spec.",
        ),
        opt(
            "custom_claims",
            Ty::Strings,
            "Custom rules (ids or patterns such as `ACME-*`) allowed to make a compliance control met; other custom rules' control mappings count as supports.",
        ),
        opt(
            "evidence_max_age",
            Ty::Duration,
            "Observations older than this do not count as observed (default 7d).",
        ),
        opt(
            "waiver_max_days",
            POSITIVE,
            "In soft launch and production, the longest a waiver may run from its `granted` date, in days (default 90).",
        ),
        opt(
            "attestation_max_days",
            POSITIVE,
            "In soft launch and production, the longest an attestation may run from its `date`, in days (default 365).",
        ),
        opt(
            "promotion",
            Ty::Table(&PROMOTION),
            "Promotion gates on what was observed (soak, SLO, backup runs, approvals).",
        ),
        opt(
            "patch_max_age",
            Ty::Duration,
            "The longest a security update may stay pending on a server, from when its agent first reported it (default 14d).",
        ),
    ],
);

pub(crate) static CONTACT: Shape = shape(
    "contact",
    "A contact.",
    &[
        opt("name", Ty::Str, "Display name."),
        opt("email", Ty::Str, "Email address."),
        opt("phone", Ty::Str, "Phone number."),
        opt("on_call", Ty::Bool, "Takes on-call duty."),
        opt(
            "signs_off",
            Ty::Bool,
            "Signs off promotions from staging to soft launch for the client (SG-PROMO-SIGNOFF).",
        ),
        opt(
            "notify",
            Ty::Strings,
            "Notifier ids that reach this contact.",
        ),
    ],
);

pub(crate) static NOTIFIER: Shape = shape(
    "notifier",
    "A notifier.",
    &[
        req("type", Ty::Enum(NotifierKind::NAMES), "Channel type."),
        opt(
            "url",
            Ty::Str,
            "Webhook, Slack or PagerDuty endpoint. May use ${NAME}.",
        ),
        opt(
            "secret",
            Ty::Str,
            "Webhook HMAC-SHA256 secret. May use ${NAME}.",
        ),
        opt(
            "routing_key",
            Ty::Str,
            "PagerDuty Events v2 routing key. May use ${NAME}.",
        ),
        opt(
            "smtp",
            Ty::Str,
            "SMTP server URL for email: smtp://user:pass@host:587 (STARTTLS required), smtps://host:465 (TLS), ?tls=none for a relay on the same host. May use ${NAME}.",
        ),
        opt(
            "from",
            Ty::Str,
            "Sender address for email, e.g. \"stagegate <alerts@example.com>\".",
        ),
        opt(
            "ca_file",
            Ty::Str,
            "PEM file of an extra trusted CA for the SMTP server, relative to the spec.",
        ),
        opt(
            "token",
            Ty::Str,
            "Telegram bot token, Matrix access token, Opsgenie API key, Pushover or Gotify application token. Must use ${NAME}.",
        ),
        opt("chat_id", Ty::Str, "Telegram chat the bot posts to."),
        opt(
            "room",
            Ty::Str,
            "Matrix room id the messages go to, e.g. \"!abc:example.org\".",
        ),
        opt(
            "user_key",
            Ty::Str,
            "Pushover user or group key. Must use ${NAME}.",
        ),
        opt(
            "status_updates",
            Ty::Bool,
            "Also send the public updates posted to status-page incidents.",
        ),
    ],
);

pub(crate) static WAIVER: Shape = shape(
    "waiver",
    "A waiver.",
    &[
        req("rule", Ty::Str, "Rule id, e.g. SG-SEC-PENTEST."),
        req("environment", Ty::Str, "Environment name."),
        req("reason", Ty::Str, "Why the gap is accepted."),
        req("expires", Ty::Date, "Last day the waiver applies."),
        opt("approved_by", Ty::Str, "Who approved it."),
        opt(
            "granted",
            Ty::Date,
            "When it was granted (default: when its line was last committed, else today); in soft launch and production it may run at most `policy.waiver_max_days` from then.",
        ),
    ],
);

pub(crate) static APPLICABILITY: Shape = shape(
    "applicability",
    "A control that does not apply.",
    &[
        req(
            "framework",
            Ty::Enum(Framework::NAMES),
            "Framework the control belongs to (must be in product.frameworks).",
        ),
        req("control", Ty::Str, "Published control id, e.g. \"9.4.1\"."),
        opt(
            "environment",
            Ty::Str,
            "Environment it is about (default: every environment).",
        ),
        req("reason", Ty::Str, "Why the control does not apply."),
        req("approved_by", Ty::Str, "Who approved leaving it out."),
    ],
);

pub(crate) static ATTESTATION: Shape = shape(
    "attestation",
    "An attestation.",
    &[
        req(
            "framework",
            Ty::Enum(Framework::NAMES),
            "Framework the control belongs to (must be in product.frameworks).",
        ),
        req(
            "control",
            Ty::Str,
            "Published control id, e.g. \"12.1.1\" or \"A.5.1\".",
        ),
        opt(
            "environment",
            Ty::Str,
            "Environment it is about (default: every environment).",
        ),
        req("by", Ty::Str, "Who attests."),
        req("date", Ty::Date, "When."),
        req("evidence", Ty::Str, "Path of the document that proves it."),
        req("valid_until", Ty::Date, "Last day it counts."),
        opt("note", Ty::Str, "Free text."),
    ],
);
