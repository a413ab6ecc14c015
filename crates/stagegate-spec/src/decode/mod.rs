//! Typed decoding of the spanned TOML tree.
//!
//! Serde stops at the first error; a spec author wants every problem in one
//! run. So values are decoded by hand from `toml`'s spanned tree, and every
//! problem becomes a [`Diagnostic`] collected in [`Cx`] while decoding goes on.

mod environment;
mod monitoring;

pub(crate) use environment::decode_environment;
pub(crate) use monitoring::{CHECK_COMMON, check_keys, decode_monitoring, positive};

use toml::de::{DeTable, DeValue};

use crate::interpolate::{EnvLookup, expand};
use crate::shape::Shape;
use crate::suggest::did_you_mean;
use crate::{Date, Deferred, Diagnostic, Duration, Span, Spanned};

pub(crate) type Value<'i> = toml::Spanned<DeValue<'i>>;

/// Where a value sits in the spec (`environments.prod.servers[0].name`),
/// built on the stack as decoding descends and formatted only when a problem
/// is reported: decoding large specs allocates no path strings.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(parent, key) => {
                if !matches!(parent, Path::Root) {
                    write!(f, "{parent}.")?;
                }
                if !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    f.write_str(key)
                } else {
                    write!(f, "\"{key}\"")
                }
            }
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

pub(crate) fn span_of<T>(v: &toml::Spanned<T>) -> Span {
    v.span().into()
}

/// Decoding context: collected diagnostics and the environment lookup.
pub(crate) struct Cx<'a> {
    pub diags: Vec<Diagnostic>,
    pub env: EnvLookup<'a>,
}

impl Cx<'_> {
    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn mismatch(&mut self, v: &Value<'_>, path: &Path<'_>, expected: &str) {
        let found = describe(v.get_ref());
        self.push(
            Diagnostic::new(format!("wrong type for `{path}`"), span_of(v))
                .label(format!("found {found}"))
                .note(format!("expected {expected}")),
        );
    }
}

/// How a found value is named in messages: its type and, for scalars, the value.
pub(crate) fn describe(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("string \"{s}\""),
        DeValue::Integer(i) => format!("integer {i}"),
        DeValue::Float(f) => format!("float {f}"),
        DeValue::Boolean(b) => format!("boolean {b}"),
        DeValue::Datetime(d) => format!("datetime {d}"),
        DeValue::Array(_) => "an array".to_owned(),
        DeValue::Table(_) => "a table".to_owned(),
    }
}

/// A value that can be decoded from TOML, reporting problems into `cx`.
pub(crate) trait Decode: Sized {
    /// What a user should write here, for "expected ..." notes.
    const EXPECTED: &'static str;
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self>;
}

impl Decode for String {
    const EXPECTED: &'static str = "a string";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        let DeValue::String(s) = v.get_ref() else {
            cx.mismatch(v, path, Self::EXPECTED);
            return None;
        };
        let env = cx.env;
        match expand(s, &mut |name| env(name)) {
            Ok(s) => Some(s),
            Err(e) => {
                cx.push(
                    Diagnostic::new(format!("cannot resolve `{path}`: {e}"), span_of(v))
                        .label("referenced here")
                        .note("set the variable, or write the value literally (`$${` writes a literal `${`)"),
                );
                None
            }
        }
    }
}

impl Decode for Deferred {
    const EXPECTED: &'static str = "a string (may use ${NAME})";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        let DeValue::String(s) = v.get_ref() else {
            cx.mismatch(v, path, Self::EXPECTED);
            return None;
        };
        // Check the syntax now; the variables themselves are looked up only
        // where the value is used.
        if let Err(e) = expand(s, &mut |_| Some(String::new())) {
            cx.push(Diagnostic::new(format!("invalid `{path}`: {e}"), span_of(v)).label("here"));
            return None;
        }
        Some(Deferred::new(s.to_string(), span_of(v)))
    }
}

impl Decode for bool {
    const EXPECTED: &'static str = "`true` or `false`";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                cx.mismatch(v, path, Self::EXPECTED);
                None
            }
        }
    }
}

fn integer(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
    expected: &str,
    max: u64,
) -> Option<u64> {
    let DeValue::Integer(i) = v.get_ref() else {
        cx.mismatch(v, path, expected);
        return None;
    };
    match u64::from_str_radix(i.as_str(), i.radix()) {
        Ok(n) if n <= max => Some(n),
        _ => {
            cx.push(
                Diagnostic::new(format!("`{path}` is out of range"), span_of(v))
                    .label(format!("found {i}"))
                    .note(format!("expected {expected}")),
            );
            None
        }
    }
}

impl Decode for u16 {
    const EXPECTED: &'static str = "an integer from 0 to 65535";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        integer(v, cx, path, Self::EXPECTED, u64::from(u16::MAX)).map(|n| n as u16)
    }
}

impl Decode for u32 {
    const EXPECTED: &'static str = "a non-negative integer";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        integer(v, cx, path, Self::EXPECTED, u64::from(u32::MAX)).map(|n| n as u32)
    }
}

impl Decode for f64 {
    const EXPECTED: &'static str = "a number";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        let parsed = match v.get_ref() {
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            DeValue::Integer(i) if i.radix() == 10 => {
                i.as_str().replace('_', "").parse::<f64>().ok()
            }
            _ => None,
        };
        match parsed {
            Some(f) if f.is_finite() => Some(f),
            _ => {
                cx.mismatch(v, path, Self::EXPECTED);
                None
            }
        }
    }
}

impl Decode for Duration {
    const EXPECTED: &'static str = "a duration such as \"30s\", \"15m\", \"4h\" or \"365d\"";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        let DeValue::String(s) = v.get_ref() else {
            cx.mismatch(v, path, Self::EXPECTED);
            return None;
        };
        match Duration::parse(s) {
            Ok(d) if !d.get().is_zero() => Some(d),
            Ok(_) => {
                cx.push(
                    Diagnostic::new(format!("`{path}` must be longer than zero"), span_of(v))
                        .label(format!("found \"{s}\""))
                        .note(format!("expected {}", Self::EXPECTED)),
                );
                None
            }
            Err(e) => {
                cx.push(
                    Diagnostic::new(format!("invalid duration for `{path}`"), span_of(v))
                        .label(format!("found \"{s}\": {e}"))
                        .note(format!("expected {}", Self::EXPECTED)),
                );
                None
            }
        }
    }
}

/// A duration that may be zero: how long after something happens another
/// thing does (`after = "0m"` is at once).
pub(crate) struct Delay(pub Duration);

impl Decode for Delay {
    const EXPECTED: &'static str = "a duration such as \"0m\", \"15m\" or \"1h\"";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        let DeValue::String(s) = v.get_ref() else {
            cx.mismatch(v, path, Self::EXPECTED);
            return None;
        };
        match Duration::parse(s) {
            Ok(d) => Some(Delay(d)),
            Err(e) => {
                cx.push(
                    Diagnostic::new(format!("invalid duration for `{path}`"), span_of(v))
                        .label(format!("found \"{s}\": {e}"))
                        .note(format!("expected {}", Self::EXPECTED)),
                );
                None
            }
        }
    }
}

/// A local date and time (`2026-12-20 00:00`, `2026-12-20T00:00:00`, or a
/// TOML local date-time), placed in a time zone by whoever reads it.
#[derive(Debug, Clone)]
pub(crate) struct LocalDateTime {
    /// As written.
    pub text: String,
    pub value: jiff::civil::DateTime,
}

impl Decode for LocalDateTime {
    const EXPECTED: &'static str =
        "a local date and time without offset, e.g. \"2026-12-20 00:00\"";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        let text = match v.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Datetime(dt) if dt.offset.is_none() && dt.time.is_some() => dt.to_string(),
            _ => {
                cx.mismatch(v, path, Self::EXPECTED);
                return None;
            }
        };
        // A local time names no offset: `+10:00`, `-05:00` or `Z` would be
        // dropped by the parser and silently move the window.
        let offset = text
            .get(10..)
            .is_some_and(|t| t.contains(['+', '-', 'Z', 'z', '[']));
        let parsed = (text.len() >= 16 && !offset)
            .then(|| {
                text.replacen(' ', "T", 1)
                    .parse::<jiff::civil::DateTime>()
                    .ok()
            })
            .flatten();
        match parsed {
            Some(value) => Some(LocalDateTime { text, value }),
            None => {
                cx.push(
                    Diagnostic::new(
                        format!("invalid local date and time for `{path}`"),
                        span_of(v),
                    )
                    .label(format!("found \"{text}\""))
                    .note(format!("expected {}", Self::EXPECTED)),
                );
                None
            }
        }
    }
}

impl Decode for Date {
    const EXPECTED: &'static str = "a date such as 2026-12-15 (a TOML date, without quotes)";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        let date = match v.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time) {
                (Some(d), None) => {
                    Date::from_ymd(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                }
                _ => None,
            },
            DeValue::String(s) => s.parse::<Date>().ok(),
            _ => None,
        };
        if date.is_none() {
            cx.push(
                Diagnostic::new(format!("invalid date for `{path}`"), span_of(v))
                    .label(format!("found {}", describe(v.get_ref())))
                    .note(format!("expected {}", Self::EXPECTED)),
            );
        }
        date
    }
}

impl<T: Decode> Decode for Spanned<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        T::decode(v, cx, path).map(|value| Spanned::new(value, span_of(v)))
    }
}

impl<T: Decode> Decode for Vec<T> {
    const EXPECTED: &'static str = "an array";
    fn decode(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Self> {
        let DeValue::Array(items) = v.get_ref() else {
            cx.push(
                Diagnostic::new(format!("wrong type for `{path}`"), span_of(v))
                    .label(format!("found {}", describe(v.get_ref())))
                    .note(format!(
                        "expected an array of {}",
                        T::EXPECTED.trim_start_matches("a ")
                    )),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.extend(T::decode(item, cx, &Path::Index(path, i)));
        }
        Some(out)
    }
}

/// A TOML table being decoded through its [`Shape`]: a key outside the
/// shape is reported as unknown, with a "did you mean".
pub(crate) struct Table<'t, 'i, 'p> {
    table: &'t DeTable<'i>,
    pub span: Span,
    pub path: Path<'p>,
    what: &'static str,
    shape: &'static Shape,
    /// Keys the decoder asked for and keys it required (bit i: the
    /// shape's key i), checked against the shape when the table is done.
    #[cfg(debug_assertions)]
    asked: (u64, u64),
}

/// The shape of a table used as a map from ids to values: it has no keys of
/// its own, and is read with `entries`.
static MAP: Shape = Shape {
    what: "table",
    doc: "",
    fields: crate::shape::Fields::Listed(&[]),
};

impl<'t, 'i, 'p> Table<'t, 'i, 'p> {
    pub fn new(
        v: &'t Value<'i>,
        cx: &mut Cx<'_>,
        path: Path<'p>,
        shape: &'static Shape,
    ) -> Option<Self> {
        Self::of(v, cx, path, shape.what, shape)
    }

    /// A table of ids to values (`what` names it in messages).
    pub fn map(
        v: &'t Value<'i>,
        cx: &mut Cx<'_>,
        path: Path<'p>,
        what: &'static str,
    ) -> Option<Self> {
        Self::of(v, cx, path, what, &MAP)
    }

    fn of(
        v: &'t Value<'i>,
        cx: &mut Cx<'_>,
        path: Path<'p>,
        what: &'static str,
        shape: &'static Shape,
    ) -> Option<Self> {
        match v.get_ref() {
            DeValue::Table(table) => Some(Table {
                table,
                span: span_of(v),
                path,
                what,
                shape,
                #[cfg(debug_assertions)]
                asked: (0, 0),
            }),
            _ => {
                cx.mismatch(v, &path, &format!("a table ({what})"));
                None
            }
        }
    }

    /// Notes that the decoder reads `key` (and whether it requires it).
    #[cfg_attr(not(debug_assertions), allow(unused_variables, clippy::unused_self))]
    fn mark(&mut self, key: &str, required: bool) {
        #[cfg(debug_assertions)]
        {
            let i = self.shape.index(key).unwrap_or_else(|| {
                panic!(
                    "the decoder reads `{key}`, which the shape of a {} does not list",
                    self.what
                )
            });
            self.asked.0 |= 1 << i;
            if required {
                self.asked.1 |= 1 << i;
            }
        }
    }

    /// The path of `key` in this table, for messages.
    pub fn child_path<'s>(&'s self, key: &'s str) -> Path<'s> {
        Path::Key(&self.path, key)
    }

    /// The raw value under `key`.
    pub fn get(&mut self, key: &'static str) -> Option<&'t Value<'i>> {
        self.mark(key, false);
        self.table.get(key)
    }

    /// The raw value under a required `key`; the caller reports its absence.
    pub fn get_required(&mut self, key: &'static str) -> Option<&'t Value<'i>> {
        self.mark(key, true);
        self.table.get(key)
    }

    /// Where `key` is written, if present.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.table.get_key_value(key).map(|(k, _)| span_of(k))
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.get(key).is_some()
    }

    pub fn opt<T: Decode>(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<T> {
        let v = self.get(key)?;
        T::decode(v, cx, &Path::Key(&self.path, key))
    }

    /// Decodes `key`, reporting it as missing when absent. Returns `None`
    /// after reporting, so callers keep decoding siblings.
    pub fn req<T: Decode>(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<T> {
        self.mark(key, true);
        if !self.has(key) {
            cx.push(
                Diagnostic::new(
                    format!("missing required key `{key}` in {}", self.what),
                    self.span,
                )
                .label(format!("this {} has no `{key}`", self.what))
                .note(format!("expected `{key}`: {}", T::EXPECTED)),
            );
            return None;
        }
        let v = self.table.get(key)?;
        T::decode(v, cx, &Path::Key(&self.path, key))
    }

    /// The entries of a table used as a map from ids to values.
    pub fn entries(&self) -> impl Iterator<Item = (Spanned<&'t str>, &'t Value<'i>)> {
        self.table
            .iter()
            .map(|(k, v)| (Spanned::new(k.get_ref().as_ref(), span_of(k)), v))
    }

    /// Reports every key outside the table's shape.
    pub fn finish(self, cx: &mut Cx<'_>) {
        #[cfg(debug_assertions)]
        self.check_decoder();
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref();
            if self.shape.index(name).is_none() {
                let mut expected: Vec<&str> = self.shape.keys().collect();
                expected.sort_unstable();
                cx.push(
                    Diagnostic::new(
                        format!("unknown key `{name}` in {}", self.what),
                        span_of(key),
                    )
                    .label("not a known key here")
                    .with_hint(did_you_mean(name, expected.iter().copied()))
                    .note(format!("expected one of: {}", expected.join(", "))),
                );
            }
        }
    }

    /// The decoder read every key of the shape, and required exactly the
    /// shape's required keys: the schema says what the loader does.
    #[cfg(debug_assertions)]
    fn check_decoder(&self) {
        for (i, key) in self.shape.keys().enumerate() {
            let (asked, required) = (self.asked.0 >> i & 1 == 1, self.asked.1 >> i & 1 == 1);
            assert!(
                asked,
                "the decoder of a {} never reads `{key}`, which its shape lists",
                self.what
            );
            assert_eq!(
                required,
                self.shape.is_required(key),
                "a {}'s `{key}`: the decoder and the shape disagree on whether it is required",
                self.what
            );
        }
    }
}

/// Defines a string-valued enum: its TOML spellings, `Display`, and a
/// decoder whose error lists the accepted values with a "did you mean".
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl Default for $name {
            /// The first value: only a placeholder while recovering from errors.
            fn default() -> Self {
                Self::ALL[0]
            }
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every accepted spelling, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl $crate::decode::Decode for $name {
            const EXPECTED: &'static str = concat!("one of ", $("\"", $text, "\" "),+);
            fn decode(
                v: &$crate::decode::Value<'_>,
                cx: &mut $crate::decode::Cx<'_>,
                path: &$crate::decode::Path<'_>,
            ) -> Option<Self> {
                let toml::de::DeValue::String(s) = v.get_ref() else {
                    cx.mismatch(v, path, Self::EXPECTED);
                    return None;
                };
                let parsed = Self::parse(s);
                if parsed.is_none() {
                    cx.push(
                        $crate::Diagnostic::new(
                            format!(concat!("unknown ", $what, " \"{}\" for `{}`"), s, path),
                            $crate::decode::span_of(v),
                        )
                        .label(concat!("not a known ", $what))
                        .with_hint($crate::suggest::did_you_mean(s, Self::NAMES.iter().copied()))
                        .note(format!("expected one of: {}", Self::NAMES.join(", "))),
                    );
                }
                parsed
            }
        }
    };
}
pub(crate) use string_enum;

/// A TOML value as JSON, as written (variables unresolved): what custom
/// rules and JSONPath assertions read.
pub(crate) fn to_json(v: &DeValue<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        DeValue::String(s) => J::String(s.to_string()),
        DeValue::Integer(i) => {
            i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).map_or(J::Null, J::from)
        }
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .map_or(J::Null, J::from),
        DeValue::Boolean(b) => J::Bool(*b),
        DeValue::Datetime(d) => J::String(d.to_string()),
        DeValue::Array(a) => J::Array(a.iter().map(|x| to_json(x.get_ref())).collect()),
        DeValue::Table(t) => J::Object(
            t.iter()
                .map(|(k, x)| (k.get_ref().to_string(), to_json(x.get_ref())))
                .collect(),
        ),
    }
}
