//! Every kind of bad spec gives a diagnostic naming where (line, column),
//! what was found and what was expected; all problems arrive in one run.

use stagegate_spec::{Diagnostic, LoadOptions, SourceFile, load};

const RULES: &[&str] = &["SG-SEC-PENTEST", "SG-BACKUP-RPO"];

fn env(name: &str) -> Option<String> {
    (name == "SET_VAR").then(|| "value".to_owned())
}

fn errors(toml: &str) -> Vec<(usize, usize, Diagnostic)> {
    let source = SourceFile::new("stagegate.toml", toml);
    let opts = LoadOptions {
        env: &env,
        known_rules: RULES,
        known_controls: |_| &[],
    };
    match load(&source, &opts) {
        Ok(_) => panic!("spec unexpectedly valid"),
        Err(diags) => diags
            .into_iter()
            .map(|d| {
                let lc = source.span_start(d.span.expect("every diagnostic has a span"));
                (lc.line, lc.column, d)
            })
            .collect(),
    }
}

/// The single diagnostic of a spec, with its line and column.
fn one(toml: &str) -> (usize, usize, Diagnostic) {
    let mut e = errors(toml);
    assert_eq!(e.len(), 1, "expected one diagnostic, got {e:#?}");
    e.remove(0)
}

const BASE: &str = "[product]\nname = \"x\"\n\n[environments.prod]\nmode = \"production\"\n";

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn unknown_key_suggests_the_closest() {
    let e = errors(&with(
        "\n[environments.prod.backup]\nlocation = \"a\"\nintreval = \"1h\"\n",
    ));
    assert_eq!(e.len(), 2, "{e:#?}");
    // The table misses `interval`, reported at its header...
    assert_eq!((e[0].0, e[0].1), (7, 1));
    assert_eq!(
        e[0].2.message,
        "missing required key `interval` in backup table"
    );
    // ...and the misspelt key, with the hint.
    let (line, col, d) = &e[1];
    assert_eq!((*line, *col), (9, 1));
    assert_eq!(d.message, "unknown key `intreval` in backup table");
    assert!(
        d.notes.contains(&"did you mean `interval`?".to_owned()),
        "{d:#?}"
    );
}

#[test]
fn unknown_top_level_key() {
    let (line, col, d) = one(&format!("{BASE}environmnets = 1\n"));
    assert_eq!((line, col), (6, 1));
    assert_eq!(d.message, "unknown key `environmnets` in environment");
    assert!(
        d.notes[0].contains("did you mean `servers`?")
            || d.notes.iter().any(|n| n.contains("expected one of"))
    );
}

#[test]
fn unknown_reference_names_the_known_ids() {
    let (line, col, d) = one(&with(
        "\n[contacts.ops]\nemail = \"o@x\"\n\n[environments.prod.monitoring]\nnotify = [\"opz\"]\n",
    ));
    assert_eq!((line, col), (11, 11));
    assert_eq!(d.message, "unknown contact `opz`");
    assert_eq!(d.label, "no contact has this id");
    assert!(d.notes.contains(&"did you mean `ops`?".to_owned()));
    assert!(d.notes.contains(&"expected one of: ops".to_owned()));
}

#[test]
fn unknown_server_in_cluster_and_backup() {
    let spec = with(
        "\n[[environments.prod.servers]]\nname = \"app-1\"\nlocation = \"a\"\n\n[environments.prod.cluster]\nnodes = [\"app-1\", \"app-2\"]\n\n[environments.prod.backup]\nlocation = \"b\"\ninterval = \"1h\"\ncovers = [\"db-1\"]\n",
    );
    let e = errors(&spec);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!(
        (e[0].0, e[0].1, e[0].2.message.as_str()),
        (12, 19, "unknown server `app-2`")
    );
    assert_eq!(
        (e[1].0, e[1].1, e[1].2.message.as_str()),
        (17, 11, "unknown server `db-1`")
    );
}

#[test]
fn check_covering_an_unknown_component() {
    let (line, col, d) = one(&with(
        "\n[[environments.prod.monitoring.checks]]\nname = \"c\"\nkind = \"tcp\"\nhost = \"h\"\nport = 1\ncovers = \"databse\"\n",
    ));
    assert_eq!((line, col), (12, 10));
    assert_eq!(d.message, "check `c` covers unknown component `databse`");
    assert!(d.notes.contains(&"did you mean `database`?".to_owned()));
}

#[test]
fn bad_duration() {
    let (line, col, d) = one(&with(
        "\n[environments.prod.backup]\nlocation = \"a\"\ninterval = \"6 hourz\"\n",
    ));
    assert_eq!((line, col), (9, 12));
    assert_eq!(
        d.message,
        "invalid duration for `environments.prod.backup.interval`"
    );
    assert!(d.label.starts_with("found \"6 hourz\""), "{}", d.label);
    assert_eq!(
        d.notes,
        vec!["expected a duration such as \"30s\", \"15m\", \"4h\" or \"365d\"".to_owned()]
    );
}

#[test]
fn bad_date() {
    let spec = with("\n[environments.prod.pentest]\ndate = 2026-02-30\n");
    // 2026-02-30 is not even valid TOML: the parser reports it.
    let (line, _, d) = one(&spec);
    assert_eq!(line, 8);
    assert_eq!(d.message, "invalid TOML");
    let (line, col, d) = one(&with(
        "\n[environments.prod.pentest]\ndate = \"15.09.2026\"\n",
    ));
    assert_eq!((line, col), (8, 8));
    assert_eq!(
        d.message,
        "invalid date for `environments.prod.pentest.date`"
    );
    assert_eq!(d.label, "found string \"15.09.2026\"");
    assert!(d.notes[0].contains("2026-12-15"));
    // A date-time is not a date.
    let (_, _, d) = one(&with(
        "\n[environments.prod.pentest]\ndate = 2026-09-15T10:00:00Z\n",
    ));
    assert!(d.label.starts_with("found datetime"));
}

#[test]
fn wrong_type() {
    let (line, col, d) = one(&with(
        "\n[environments.prod.security]\nfirewall = \"yes\"\n",
    ));
    assert_eq!((line, col), (8, 12));
    assert_eq!(
        d.message,
        "wrong type for `environments.prod.security.firewall`"
    );
    assert_eq!(d.label, "found string \"yes\"");
    assert_eq!(d.notes, vec!["expected `true` or `false`".to_owned()]);
}

#[test]
fn wrong_enum_value_suggests() {
    let (line, col, d) =
        one("[product]\nname = \"x\"\n[environments.prod]\nmode = \"prodution\"\n");
    assert_eq!((line, col), (4, 8));
    assert_eq!(
        d.message,
        "unknown mode \"prodution\" for `environments.prod.mode`"
    );
    assert!(d.notes.contains(&"did you mean `production`?".to_owned()));
}

#[test]
fn missing_required_field() {
    let (line, col, d) = one("[product]\nowner = \"x\"\n[environments.prod]\nmode = \"staging\"\n");
    assert_eq!((line, col), (1, 1));
    assert_eq!(d.message, "missing required key `name` in [product] table");
    let (line, _, d) = one(&with("\n[[environments.prod.servers]]\nname = \"a\"\n"));
    assert_eq!(line, 7);
    assert_eq!(d.message, "missing required key `location` in server");
}

#[test]
fn duplicate_server() {
    let spec = with(
        "\n[[environments.prod.servers]]\nname = \"app\"\nlocation = \"a\"\n\n[[environments.prod.servers]]\nname = \"app\"\nlocation = \"b\"\n",
    );
    let (line, col, d) = one(&spec);
    assert_eq!((line, col), (12, 8));
    assert_eq!(d.message, "duplicate server `app` in environment `prod`");
    assert_eq!(d.related.len(), 1);
    let first = SourceFile::new("s", spec.clone()).span_start(d.related[0].0);
    assert_eq!(first.line, 8);
}

#[test]
fn unset_environment_variable_where_its_value_is_needed() {
    let (line, col, d) =
        one("[product]\nname = \"${UNSET_VAR}\"\n[environments.prod]\nmode = \"staging\"\n");
    assert_eq!((line, col), (2, 8));
    assert_eq!(
        d.message,
        "cannot resolve `product.name`: environment variable `UNSET_VAR` is not set"
    );
}

#[test]
fn secrets_are_not_needed_by_a_static_load() {
    let spec = with("\n[notifiers.hook]\ntype = \"webhook\"\nurl = \"${UNSET_HOOK_URL}\"\n");
    let source = SourceFile::new("s", spec);
    let opts = LoadOptions {
        env: &env,
        known_rules: RULES,
        known_controls: |_| &[],
    };
    let loaded = load(&source, &opts).expect("secrets resolve lazily");
    let url = loaded.notifiers[0].url.as_ref().expect("url");
    assert_eq!(url.variables(), vec!["UNSET_HOOK_URL".to_owned()]);
    let err = url.resolve(&env).expect_err("unset");
    assert_eq!(
        err.message,
        "environment variable `UNSET_HOOK_URL` is not set"
    );
    // A set variable resolves.
    let name = "[product]\nname = \"p-${SET_VAR}\"\n[environments.prod]\nmode = \"staging\"\n";
    let spec = load(&SourceFile::new("s", name), &opts).expect("valid");
    assert_eq!(spec.product.name.value, "p-value");
}

#[test]
fn invalid_toml() {
    let (line, col, d) = one("[product]\nname = \"x\n");
    assert_eq!(line, 2);
    assert!(col >= 8, "{col}");
    assert_eq!(d.message, "invalid TOML");
    assert!(!d.label.is_empty());
}

#[test]
fn unknown_waiver_rule_and_environment() {
    let spec = with(
        "\n[[waivers]]\nrule = \"SG-SEC-PENTST\"\nenvironment = \"prdo\"\nreason = \"r\"\nexpires = 2026-12-01\n",
    );
    let e = errors(&spec);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!((e[0].0, e[0].1), (8, 8));
    assert_eq!(e[0].2.message, "waiver names unknown rule `SG-SEC-PENTST`");
    assert!(
        e[0].2
            .notes
            .contains(&"did you mean `SG-SEC-PENTEST`?".to_owned())
    );
    assert_eq!(
        (e[1].0, e[1].2.message.as_str()),
        (9, "unknown environment `prdo`")
    );
}

#[test]
fn check_keys_depend_on_the_kind() {
    let spec = with(
        "\n[[environments.prod.monitoring.checks]]\nname = \"c\"\nkind = \"http\"\ntoken = \"t\"\n",
    );
    let e = errors(&spec);
    let messages: Vec<&str> = e.iter().map(|x| x.2.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "missing required key `url` in http check",
            "`token` does not apply to a `http` check"
        ]
    );
    assert_eq!((e[1].0, e[1].1), (10, 1));
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let spec = "[product]\nnmae = \"x\"\n\n[contacts.ops]\nnotify = [\"pager\"]\n\n[environments.prod]\nmode = \"live\"\n\n[environments.prod.backup]\nlocation = \"a\"\ninterval = \"soon\"\nencrypted = 1\n";
    let e = errors(spec);
    let messages: Vec<&str> = e.iter().map(|x| x.2.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "missing required key `name` in [product] table",
            "unknown key `nmae` in [product] table",
            "unknown notifier `pager`",
            "unknown mode \"live\" for `environments.prod.mode`",
            "invalid duration for `environments.prod.backup.interval`",
            "wrong type for `environments.prod.backup.encrypted`",
        ]
    );
}

#[test]
fn out_of_range_numbers() {
    let (_, _, d) = one(
        "[product]\nname = \"x\"\navailability_target = 120\n[environments.p]\nmode = \"staging\"\n",
    );
    assert_eq!(
        d.message,
        "`product.availability_target` is not a percentage"
    );
    let (_, _, d) = one(&with(
        "\n[environments.prod.security]\npublic_ports = [70000]\n",
    ));
    assert_eq!(
        d.message,
        "`environments.prod.security.public_ports[0]` is out of range"
    );
}

#[test]
fn missing_tables() {
    let e = errors("");
    let messages: Vec<&str> = e.iter().map(|x| x.2.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "missing required table `[product]`",
            "missing required table `[environments]`"
        ]
    );
}

#[test]
fn unsupported_version() {
    let (line, col, d) = one(&format!("version = 2\n{BASE}"));
    assert_eq!(
        (line, col, d.message.as_str()),
        (1, 11, "unsupported spec version")
    );
}

#[test]
fn no_environments() {
    let (line, col, d) = one("[product]\nname = \"x\"\n[environments]\n");
    assert_eq!(
        (line, col, d.message.as_str()),
        (3, 2, "the spec declares no environments")
    );
}

#[test]
fn a_drill_needs_something_to_restore() {
    let (line, col, d) = one(&with(
        "\n[environments.prod.backup]\nlocation = \"a\"\ninterval = \"1h\"\n\n[environments.prod.backup.drill]\nevery = \"90d\"\n",
    ));
    assert_eq!((line, col), (11, 1));
    assert_eq!(d.message, "a restore drill needs something to restore");
    let (line, _, d) = one(&with(
        "\n[environments.prod.backup]\nlocation = \"a\"\ninterval = \"1h\"\n\n[environments.prod.backup.drill]\nevery = \"90d\"\ncommand = \"./restore.sh\"\nverify = \"true\"\n",
    ));
    assert_eq!(line, 14);
    assert_eq!(d.message, "`verify` only follows the built-in restore");
}

#[test]
fn an_accessibility_audit_names_a_known_standard() {
    let (line, _, d) = one(&with(
        "\n[environments.prod.accessibility_audit]\nstandard = \"wcag-3\"\ndate = 2026-01-01\n",
    ));
    assert_eq!(line, 8);
    assert!(
        d.message.contains("accessibility standard"),
        "{}",
        d.message
    );
}

#[test]
fn agent_is_true_or_a_table_with_an_interval() {
    let (line, col, d) = one(&with("agent = \"yes\"\n"));
    assert_eq!((line, col), (6, 9));
    assert_eq!(d.message, "wrong type for `environments.prod.agent`");
    assert!(d.notes.iter().any(|n| n.contains("`true`")), "{d:?}");
    let (line, _, d) = one(&with("\n[environments.prod.agent]\ninterval = \"soon\"\n"));
    assert_eq!(line, 8);
    assert!(
        d.message.contains("environments.prod.agent.interval"),
        "{d:?}"
    );
    let (line, _, d) = one(&with(
        "\n[environments.prod.security]\nprivate_ports = [0]\n",
    ));
    assert_eq!(line, 8);
    assert!(d.message.contains("private_ports"), "{d:?}");
}

#[test]
fn agent_names_intervals_and_ports_are_checked() {
    let (line, _, d) = one(&with(
        "\n[environments.prod.monitoring]\n\n[[environments.prod.monitoring.checks]]\nname = \"agent:db-1\"\nkind = \"heartbeat\"\ntoken = \"t\"\ninterval = \"1d\"\n",
    ));
    assert_eq!(line, 10);
    assert!(d.message.contains("is reserved"), "{d:?}");
    let (line, _, d) = one(&with(
        "\n[environments.prod.agent]\ninterval = \"99999d\"\n",
    ));
    assert_eq!(line, 8);
    assert!(d.message.contains("out of range"), "{d:?}");
    let (line, _, d) = one(&with(
        "\n[environments.prod.security]\npublic_ports = [443]\nprivate_ports = [443]\n",
    ));
    assert_eq!(line, 9);
    assert!(d.message.contains("both public and private"), "{d:?}");
}

fn checks(deps: &[(&str, &str)]) -> String {
    let mut text = with("\n[environments.prod.monitoring]\n");
    for (name, depends_on) in deps {
        text.push_str(&format!(
            "\n[[environments.prod.monitoring.checks]]\nname = \"{name}\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = 9\ndepends_on = {depends_on}\n"
        ));
    }
    text
}

#[test]
fn dependencies_name_checks_of_the_environment_and_never_cycle() {
    // Unknown, with the closest name.
    let (line, col, d) = one(&checks(&[("web", "[\"dbb\"]"), ("db", "[]")]));
    assert_eq!((line, col), (14, 15));
    assert_eq!(d.message, "check `web` depends on unknown check `dbb`");
    assert!(
        d.notes.iter().any(|n| n.contains("did you mean `db`?")),
        "{d:?}"
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n == "expected the name of a check in the same environment: web, db"),
        "{d:?}"
    );
    // Itself.
    let (_, _, d) = one(&checks(&[("web", "[\"web\"]")]));
    assert_eq!(d.message, "check `web` depends on itself");
    // A cycle, named in order and reported once, where it closes.
    let (line, col, d) = one(&checks(&[
        ("web", "[\"api\"]"),
        ("api", "[\"db\"]"),
        ("db", "[\"web\"]"),
    ]));
    assert_eq!(
        d.message,
        "checks depend on each other in a cycle: web → api → db → web"
    );
    assert_eq!((line, col), (28, 15), "db's, which leads back to web");
    assert_eq!(d.label, "this dependency closes the cycle");
}

const ROTATION: &str = "\n[contacts.alice]\nemail = \"a@example.com\"\n\n[contacts.bob]\nemail = \"b@example.com\"\n\n[rotations.primary]\nmembers = [\"alice\", \"bob\"]\nshift = \"7d\"\nstart = 2026-12-01T09:00:00\ntimezone = \"Europe/Warsaw\"\n";

#[test]
fn rotations_need_members_a_shift_and_one_person_at_a_time() {
    let spec = |edit: &dyn Fn(&str) -> String| edit(&with(ROTATION));
    let (_, _, d) = one(&spec(&|s| s.replace("[\"alice\", \"bob\"]", "[]")));
    assert_eq!(d.message, "rotation `primary` has no members");
    let (_, _, d) = one(&spec(&|s| s.replace("\"7d\"", "\"0s\"")));
    assert_eq!(
        d.message,
        "`rotations.primary.shift` must be longer than zero"
    );
    let (line, _, d) = one(&spec(&|s| s.replace("\"bob\"]", "\"bobb\"]")));
    assert_eq!(line, 14);
    assert_eq!(d.message, "unknown contact `bobb`");
    let (_, _, d) = one(&spec(&|s| s.replace("Europe/Warsaw", "Europe/Warsw")));
    assert_eq!(d.message, "unknown time zone");
    assert!(d.notes.iter().any(|n| n.contains("Europe/Warsaw")), "{d:?}");
    // Two overrides at once.
    let overlapping = format!(
        "{}\n[[rotations.primary.overrides]]\nmember = \"bob\"\nfrom = 2026-12-24T09:00:00\nuntil = 2026-12-27T09:00:00\n\n[[rotations.primary.overrides]]\nmember = \"alice\"\nfrom = 2026-12-26T09:00:00\nuntil = 2026-12-28T09:00:00\n",
        with(ROTATION)
    );
    let (line, col, d) = one(&overlapping);
    assert_eq!(d.message, "overrides of rotation `primary` overlap");
    assert_eq!((line, col), (26, 8));
    assert_eq!(d.related.len(), 1);
    let backwards =
        overlapping.replace("until = 2026-12-28T09:00:00", "until = 2026-12-25T09:00:00");
    let (_, _, d) = one(&backwards);
    assert_eq!(d.message, "override ends before it starts");
    // `rotation:ID` must name a rotation.
    let notify = format!(
        "{}\n[environments.prod.monitoring]\nnotify = [\"rotation:primry\"]\n",
        with(ROTATION)
    );
    let (_, _, d) = one(&notify);
    assert_eq!(d.message, "unknown rotation `primry`");
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("did you mean `primary`?")),
        "{d:?}"
    );
}

#[test]
fn escalation_levels_come_in_order() {
    let spec = with(
        "\n[contacts.ops]\nemail = \"o@example.com\"\n\n[escalations.urgent]\n\n[[escalations.urgent.levels]]\nafter = \"15m\"\nnotify = [\"ops\"]\n\n[[escalations.urgent.levels]]\nafter = \"10m\"\nnotify = [\"ops\"]\n",
    );
    let (line, col, d) = one(&spec);
    assert_eq!(d.message, "levels of escalation `urgent` are out of order");
    assert_eq!((line, col), (17, 9));
    assert_eq!(
        d.label,
        "after 10m is not later than the level before (15m)"
    );
    let (_, _, d) = one(&spec.replace("after = \"10m\"", "after = \"soon\""));
    assert_eq!(
        d.message,
        "invalid duration for `escalations.urgent.levels[1].after`"
    );
    let (_, _, d) = one(&format!(
        "{}\n[environments.prod.monitoring]\nescalation = \"urgnt\"\n",
        spec.replace("after = \"10m\"", "after = \"30m\"")
    ));
    assert_eq!(d.message, "unknown escalation `urgnt`");
}

#[test]
fn a_channel_secret_written_into_the_spec_is_refused() {
    let (line, col, d) = one(&with(
        "\n[notifiers.pager]\ntype = \"opsgenie\"\ntoken = \"0123-4567\"\n",
    ));
    assert_eq!(
        d.message,
        "the opsgenie notifier's `token` is a secret written into the spec"
    );
    assert_eq!((line, col), (9, 9));
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("token = \"${OPSGENIE_TOKEN}\"")),
        "{d:?}"
    );
    let (_, _, d) = one(&with(
        "\n[notifiers.chat]\ntype = \"discord\"\nurl = \"https://discord.com/api/webhooks/1/abc\"\n",
    ));
    assert_eq!(
        d.message,
        "the discord notifier's `url` is a secret written into the spec"
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("url = \"${DISCORD_WEBHOOK_URL}\"")),
        "{d:?}"
    );
    // Through a variable, and where the URL is not the credential, it is fine.
    let fine = with(
        "\n[notifiers.chat]\ntype = \"discord\"\nurl = \"${DISCORD_WEBHOOK_URL}\"\n\n[notifiers.g]\ntype = \"gotify\"\nurl = \"https://gotify.example.com\"\ntoken = \"${GOTIFY_TOKEN}\"\n",
    );
    let source = SourceFile::new("stagegate.toml", &fine);
    let opts = LoadOptions {
        env: &env,
        known_rules: RULES,
        known_controls: |_| &[],
    };
    assert!(load(&source, &opts).is_ok());
}

#[test]
fn each_channel_names_what_it_needs() {
    let (_, _, d) = one(&with(
        "\n[notifiers.mx]\ntype = \"matrix\"\nurl = \"https://matrix.example.com\"\ntoken = \"${MATRIX_TOKEN}\"\n",
    ));
    assert_eq!(d.message, "missing required key `room` in matrix notifier");
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("a `matrix` notifier needs: url, token, room")),
        "{d:?}"
    );
    let (_, _, d) = one(&with("\n[notifiers.t]\ntype = \"telegarm\"\n"));
    assert!(d.message.contains("telegarm"), "{d:?}");
    assert!(
        d.notes.iter().any(|n| n.contains("telegram")),
        "an unknown type suggests the closest: {d:?}"
    );
}

#[test]
fn a_status_page_names_checks_of_its_environment() {
    let spec = with(
        "\n[[environments.prod.monitoring.checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"https://example.com\"\n\n[environments.prod.status_page]\ntitle = \"Example status\"\ncomponents = [\n  { name = \"Website\", checks = [\"webb\"] },\n]\n",
    );
    let (line, col, d) = one(&spec);
    assert_eq!(
        d.message,
        "status page component `Website` names unknown check `webb`"
    );
    assert_eq!((line, col), (15, 33));
    assert!(
        d.notes.iter().any(|n| n.contains("did you mean `web`")),
        "{d:?}"
    );
    let (_, _, d) = one(&spec.replace(
        "{ name = \"Website\", checks = [\"webb\"] },",
        "{ name = \"Website\", checks = [\"web\"] },\n  { name = \"website!\", checks = [\"web\"] },",
    ));
    assert_eq!(
        d.message,
        "status page components `Website` and `website!` share the badge name `website`"
    );
    let (_, _, d) = one(&spec.replace("checks = [\"webb\"]", "checks = []"));
    assert_eq!(d.message, "status page component `Website` has no checks");
    let (_, _, d) = one(&spec
        .replace("name = \"Website\"", "name = \"Uptime\"")
        .replace("webb", "web"));
    assert_eq!(
        d.message,
        "status page component `Uptime` has no usable badge name"
    );
}

#[test]
fn status_updates_never_page_and_pages_need_url_safe_names() {
    let (_, _, d) = one(&with(
        "\n[notifiers.pd]\ntype = \"pagerduty\"\nrouting_key = \"${PD_KEY}\"\nstatus_updates = true\n",
    ));
    assert_eq!(
        d.message,
        "a pagerduty notifier cannot take `status_updates`"
    );
    let (_, _, d) = one(
        "[product]\nname = \"x\"\n\n[environments.\"eu/west\"]\nmode = \"production\"\n\n[[environments.\"eu/west\".monitoring.checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"https://example.com\"\n\n[environments.\"eu/west\".status_page]\ncomponents = [{ name = \"Web\", checks = [\"web\"] }]\n",
    );
    assert_eq!(
        d.message,
        "environment `eu/west` cannot have a public status page under its name"
    );
}
