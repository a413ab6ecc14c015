//! Who uses and controls each environment.

use stagegate_spec::{Audience, Controller};

use super::{fail, pass};
use crate::context::Ctx;
use crate::rule::{Applies, Area, Outcome, Rule};

/// The audience in force: as declared, or the mode's default.
fn audience(cx: &Ctx<'_>) -> (Audience, Option<stagegate_spec::Span>, &'static str) {
    match &cx.env.audience {
        Some(a) => (a.value, Some(a.span), ""),
        None => (
            cx.mode.default_audience(),
            None,
            " (the default, as `audience` is not set)",
        ),
    }
}

fn internal(cx: &Ctx<'_>, why: &str) -> Outcome {
    let (a, span, note) = audience(cx);
    if a == Audience::Internal {
        pass(format!("audience is internal{note}"), span)
    } else {
        fail(format!("audience is {a}{note}, but {why}"), span)
    }
}

pub(super) const DEV_INTERNAL: Rule = Rule {
    id: "SG-ENV-DEV-INTERNAL",
    title: "A development environment serves only the development team",
    area: Area::ProcessesAndStaff,
    applies: Applies::DEV,
    condition: None,
    requirement: "audience is `internal`",
    guideline: &[
        "Used and owned by the development team to showcase the results of ongoing development. It cannot be considered as an environment for anything else.",
    ],
    rationale: "A development environment has none of the backup, monitoring or security a real audience relies on; letting anyone else use it creates users and data nobody protects.",
    remediation: "Set `audience = \"internal\"`, or promote the environment (`stagegate plan ENV --to staging`) before others use it.",
    example: "[environments.dev]\nmode = \"development\"\naudience = \"internal\"",
    live: false,
    check: |cx| {
        internal(
            cx,
            "a development environment cannot be considered as an environment for anything else",
        )
    },
};

pub(super) const STAGING_INTERNAL: Rule = Rule {
    id: "SG-ENV-STAGING-INTERNAL",
    title: "Staging is for internal testing, not customer use",
    area: Area::ProcessesAndStaff,
    applies: Applies::STAGING,
    condition: None,
    requirement: "audience is `internal` (internal testing, not customer use)",
    guideline: &["Staging is meant for internal testing and not for customer use."],
    rationale: "Staging needs no backup and no monitoring; customers on it would lose data and outages would go unseen.",
    remediation: "Keep customers off staging (`audience = \"internal\"`), or promote it to soft launch once backup, monitoring and security are in place.",
    example: "[environments.staging]\nmode = \"staging\"\naudience = \"internal\"",
    live: false,
    check: |cx| {
        internal(
            cx,
            "staging is meant for internal testing and not for customer use",
        )
    },
};

pub(super) const STAGING_CONTROL: Rule = Rule {
    id: "SG-ENV-STAGING-CONTROL",
    title: "Staging is controlled by the partner or client",
    area: Area::ProcessesAndStaff,
    applies: Applies::STAGING_REC,
    condition: None,
    requirement: "`controlled_by = \"client\"`",
    guideline: &[
        "A system that works similarly to the development environment but is controlled by the partner/client.",
    ],
    rationale: "Staging is where the client accepts the work; if the development team controls it, acceptance is not independent of the people being accepted.",
    remediation: "Hand control of staging to the client and record it with `controlled_by = \"client\"`.",
    example: "[environments.staging]\nmode = \"staging\"\ncontrolled_by = \"client\"",
    live: false,
    check: |cx| match &cx.env.controlled_by {
        Some(c) if c.value == Controller::Client => pass("controlled by the client", c.span),
        Some(c) => fail(
            format!(
                "controlled by {}, but staging should be controlled by the partner/client",
                c.value
            ),
            c.span,
        ),
        None => fail(
            "`controlled_by` is not set: staging should be controlled by the partner/client",
            cx.env.span,
        ),
    },
};

pub(super) const SOFT_AUDIENCE: Rule = Rule {
    id: "SG-ENV-SOFT-AUDIENCE",
    title: "A soft launch targets a smaller audience",
    area: Area::ProcessesAndStaff,
    applies: Applies::SOFT,
    condition: None,
    requirement: "audience is `limited` or `internal`, not `public`",
    guideline: &[
        "At this stage, most of the technology and processes are in place but targeted at a smaller audience (e.g., beta/alpha testers).",
        "Not all recommended technologies, processes, and staff may be in place.",
    ],
    rationale: "A soft launch may lack recommended technology, processes and staff; opening it to the public exposes everyone to those gaps.",
    remediation: "Limit the audience (`audience = \"limited\"`) or promote the environment to production once everything is in place.",
    example: "[environments.beta]\nmode = \"soft-launch\"\naudience = \"limited\"",
    live: false,
    check: |cx| {
        let (a, span, note) = audience(cx);
        if a == Audience::Public {
            fail(
                format!(
                    "audience is public{note}: a soft launch targets a smaller audience such as beta/alpha testers"
                ),
                span,
            )
        } else {
            pass(format!("audience is {a}{note}"), span)
        }
    },
};
