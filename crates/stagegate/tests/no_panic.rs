//! No input panics: random text, and valid specs with random edits, go
//! through loading, evaluation in every mode and every report format.

mod common;

use proptest::prelude::*;
use stagegate_report::{Format, Kind, Options, Report};
use stagegate_rules::{Evaluator, FileFacts, rule_ids};
use stagegate_spec::{Date, LoadOptions, Mode, SourceFile, load};

const SEEDS: &[&str] = &[
    include_str!("../../../examples/ecommerce-shop/stagegate.toml"),
    include_str!("../../../examples/startup-beta/stagegate.toml"),
    include_str!("../../../examples/health-app/stagegate.toml"),
    include_str!("../templates/stagegate.toml"),
];

/// Loads, evaluates and renders `text` in every mode and format; some
/// variables are set (even-length names), some not.
fn exercise(text: &str) {
    let env = |name: &str| name.len().is_multiple_of(2).then(|| "x".to_owned());
    let _ = exercise_with(text, &env);
}

/// Whether `text` loaded; whatever it is, nothing panics.
fn exercise_with(text: &str, env: &dyn Fn(&str) -> Option<String>) -> bool {
    let source = SourceFile::new("fuzz.toml", text);
    let ids = rule_ids();
    let opts = LoadOptions {
        env,
        known_rules: &ids,
        known_controls: stagegate_rules::frameworks::control_ids,
    };
    match load(&source, &opts) {
        Ok(spec) => {
            let facts = FileFacts::new();
            let as_of = Date::from_ymd(2026, 11, 26).expect("date");
            let provenance = stagegate_report::Provenance::new(
                stagegate_report::SpecIdentity::of(&source),
                as_of.start_unix_secs(),
            );
            for e in &spec.environments {
                for mode in Mode::ALL {
                    let result = Evaluator::new(&spec, as_of, &facts).environment(e, *mode);
                    let results = [result];
                    let report = Report {
                        kind: Kind::Plan { from: e.mode.value },
                        product: &spec.product.name.value,
                        as_of,
                        source: &source,
                        environments: &results,
                        provenance: &provenance,
                    };
                    for format in [
                        Format::Text,
                        Format::Json,
                        Format::Markdown,
                        Format::Sarif,
                        Format::Junit,
                    ] {
                        report
                            .render(
                                format,
                                Options {
                                    styled: true,
                                    verbose: true,
                                },
                                &mut std::io::sink(),
                            )
                            .expect("render");
                    }
                }
            }
            true
        }
        Err(diags) => {
            assert!(!diags.is_empty());
            for d in diags {
                if let Some(span) = d.span {
                    // Spans must lie on character boundaries inside the text,
                    // or rendering them would fail.
                    assert!(
                        text.get(span.range()).is_some(),
                        "bad span {span:?} for {}",
                        d.message
                    );
                }
            }
            false
        }
    }
}

/// An edit to a seed spec: replace a byte range with some text.
fn edited() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "",
        "\"",
        "[",
        "]",
        "=",
        "\n",
        "[[",
        "]]",
        "${",
        "}",
        "x",
        "0",
        "-1",
        "99999999999999999999",
        "1.5",
        "true",
        "2026-02-30",
        "\"1h\"",
        "\"\"",
        "{",
        "[environments.e]\n",
        "mode = \"production\"\n",
        "é",
        "\u{0}",
        "interval = \"0s\"\n",
        "nodes = []\n",
        "covers = \"\"\n",
    ]);
    (
        0..SEEDS.len(),
        any::<prop::sample::Index>(),
        0usize..40,
        prop::collection::vec(pieces, 1..4),
    )
        .prop_map(|(seed, at, len, insert)| {
            let text = SEEDS[seed];
            let mut start = at.index(text.len().max(1));
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}{}{}", &text[..start], insert.concat(), &text[end..])
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in ".{0,400}") {
        exercise(&text);
    }

    #[test]
    fn edited_specs_never_panic(text in edited()) {
        exercise(&text);
    }
}

#[test]
fn the_seeds_load() {
    let every_variable = |_: &str| Some("x".to_owned());
    for (i, seed) in SEEDS.iter().enumerate() {
        assert!(
            exercise_with(seed, &every_variable),
            "seed {i} does not load: the mutations would start from a spec error"
        );
    }
}
