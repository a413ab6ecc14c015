//! A spec's custom rules as the engine and its callers hold them, the same
//! type whether or not this build reads Rego, so a server or report never
//! needs to know how the rules were written.

use stagegate_spec::{Date, Mode};

use crate::rule::{CustomRule, Outcome, RuleRef};

/// The custom rules to judge alongside the catalogue; none by default.
#[derive(Clone, Debug, Default)]
pub struct CustomRules {
    #[cfg(feature = "rego")]
    set: Option<std::sync::Arc<crate::custom::PolicySet>>,
}

impl CustomRules {
    #[cfg(feature = "rego")]
    pub fn new(set: std::sync::Arc<crate::custom::PolicySet>) -> CustomRules {
        CustomRules { set: Some(set) }
    }

    /// The rules, in the order of their files.
    pub fn rules(&self) -> impl Iterator<Item = &CustomRule> + '_ {
        #[cfg(feature = "rego")]
        let rules = self.set.iter().flat_map(|s| s.rules());
        #[cfg(not(feature = "rego"))]
        let rules = std::iter::empty();
        rules
    }

    /// Judges one environment in `mode`.
    pub(crate) fn evaluate(
        &self,
        _environment: &str,
        _mode: Mode,
        _as_of: Date,
    ) -> Vec<(RuleRef<'_>, Outcome)> {
        #[cfg(feature = "rego")]
        if let Some(set) = &self.set {
            return set.evaluate(_environment, _mode, _as_of);
        }
        Vec::new()
    }
}
