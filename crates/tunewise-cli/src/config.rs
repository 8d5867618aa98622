//! The study file (TOML): parsed with serde into raw sections, then checked into a [`Plan`]
//! before any trial runs. Syntax errors and unknown keys come from `toml` with the line; semantic
//! errors name the section and field (and the line of a parameter's table).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use tunewise::{
    Budget, CmaEsSampler, Direction, Distribution, GpSampler, GridSampler, HyperbandPruner,
    NsgaIISampler, ParamValue, PercentilePruner, Pruner, QmcSampler, RandomSampler, Sampler,
    SuccessiveHalvingPruner, ThresholdPruner, TpeSampler, WilcoxonPruner,
};

/// The default storage: a SQLite file in the working directory.
pub const DEFAULT_STORAGE: &str = "sqlite://tunewise.db";

/// The study file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyFile {
    #[serde(default)]
    study: StudySection,
    #[serde(default)]
    sampler: SamplerSection,
    #[serde(default)]
    pruner: PrunerSection,
    #[serde(default)]
    budget: BudgetSection,
    #[serde(default)]
    command: CommandSection,
    #[serde(default)]
    params: BTreeMap<String, toml::Spanned<ParamSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StudySection {
    name: Option<String>,
    direction: Option<DirectionName>,
    directions: Option<Vec<DirectionName>>,
    storage: Option<String>,
    seed: Option<u64>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum DirectionName {
    Minimize,
    Maximize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SamplerSection {
    #[serde(default)]
    kind: SamplerKind,
    seed: Option<u64>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SamplerKind {
    #[default]
    Auto,
    Random,
    Tpe,
    Gp,
    Cmaes,
    Qmc,
    Nsga2,
    Grid,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrunerSection {
    #[serde(default)]
    kind: PrunerKind,
    percentile: Option<f64>,
    n_startup_trials: Option<usize>,
    n_warmup_steps: Option<u64>,
    interval_steps: Option<u64>,
    lower: Option<f64>,
    upper: Option<f64>,
    min_resource: Option<u64>,
    max_resource: Option<u64>,
    reduction_factor: Option<u64>,
    p_threshold: Option<f64>,
}

impl PrunerSection {
    /// Refuses settings that the chosen kind does not take (they would be silently ignored).
    fn check_settings(&self) -> Result<()> {
        let set: [(&str, bool); 10] = [
            ("percentile", self.percentile.is_some()),
            ("n_startup_trials", self.n_startup_trials.is_some()),
            ("n_warmup_steps", self.n_warmup_steps.is_some()),
            ("interval_steps", self.interval_steps.is_some()),
            ("lower", self.lower.is_some()),
            ("upper", self.upper.is_some()),
            ("min_resource", self.min_resource.is_some()),
            ("max_resource", self.max_resource.is_some()),
            ("reduction_factor", self.reduction_factor.is_some()),
            ("p_threshold", self.p_threshold.is_some()),
        ];
        let (kind, takes): (&str, &[&str]) = match self.kind {
            PrunerKind::None => ("none", &[]),
            PrunerKind::Median => {
                ("median", &["n_startup_trials", "n_warmup_steps", "interval_steps"])
            }
            PrunerKind::Percentile => (
                "percentile",
                &["percentile", "n_startup_trials", "n_warmup_steps", "interval_steps"],
            ),
            PrunerKind::Threshold => {
                ("threshold", &["lower", "upper", "n_warmup_steps", "interval_steps"])
            }
            PrunerKind::Asha => ("asha", &["min_resource", "reduction_factor"]),
            PrunerKind::Hyperband => {
                ("hyperband", &["min_resource", "max_resource", "reduction_factor"])
            }
            PrunerKind::Wilcoxon => ("wilcoxon", &["p_threshold", "n_startup_trials"]),
        };
        if let Some((field, _)) = set.iter().find(|(f, on)| *on && !takes.contains(f)) {
            let takes = if takes.is_empty() { "no settings".to_owned() } else { takes.join(", ") };
            bail!("[pruner] '{field}' does not apply to kind = \"{kind}\" (it takes: {takes})");
        }
        Ok(())
    }
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PrunerKind {
    #[default]
    None,
    Median,
    Percentile,
    Threshold,
    Asha,
    Hyperband,
    Wilcoxon,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetSection {
    trials: Option<usize>,
    time: Option<TimeValue>,
    max_failed: Option<usize>,
    target: Option<f64>,
    patience: Option<usize>,
}

/// A duration: seconds as a number, or text such as "90s", "30m", "2h".
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum TimeValue {
    Seconds(f64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandSection {
    args: Option<Vec<String>>,
    score: Option<String>,
    timeout: Option<TimeValue>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ParamType {
    Float,
    Int,
    Categorical,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamSpec {
    #[serde(rename = "type")]
    kind: ParamType,
    low: Option<f64>,
    high: Option<f64>,
    #[serde(default)]
    log: bool,
    step: Option<f64>,
    choices: Option<Vec<toml::Value>>,
    when: Option<BTreeMap<String, toml::Value>>,
}

/// How the score is read from the program's standard output.
#[derive(Debug, Clone)]
pub enum ScoreRule {
    /// The last non-empty line: one number per objective (spaces or commas between them).
    LastLine,
    /// The last line that is a JSON object: its value at this key (a number, or an array with one
    /// number per objective).
    Json(String),
    /// The last match of the pattern: capture group `i` holds objective `i`'s value.
    Regex(regex::Regex),
}

impl ScoreRule {
    /// Parses `last-line`, `json:KEY` or `regex:PATTERN`.
    pub fn parse(rule: &str, objectives: usize) -> Result<ScoreRule> {
        if rule == "last-line" {
            Ok(ScoreRule::LastLine)
        } else if let Some(key) = rule.strip_prefix("json:") {
            if key.is_empty() {
                bail!("[command] score = \"json:\" names no key; write \"json:KEY\"");
            }
            Ok(ScoreRule::Json(key.to_owned()))
        } else if let Some(pattern) = rule.strip_prefix("regex:") {
            let re = regex::Regex::new(pattern).with_context(|| {
                format!("[command] score: invalid regular expression {pattern:?}")
            })?;
            let groups = re.captures_len() - 1;
            if groups != objectives {
                bail!(
                    "[command] score: the regular expression {pattern:?} has {groups} capture \
                     group(s); it needs one per objective ({objectives}), e.g. \"regex:loss=(\\S+)\""
                );
            }
            Ok(ScoreRule::Regex(re))
        } else {
            bail!(
                "[command] score = {rule:?} is not a score rule; use \"last-line\", \"json:KEY\" \
                 or \"regex:PATTERN\""
            )
        }
    }
}

/// A parameter of the search space, checked.
#[derive(Debug, Clone)]
pub struct ParamPlan {
    /// Its name.
    pub name: String,
    /// Its range.
    pub distribution: Distribution,
    /// Suggested only when these categorical parameters have these values.
    pub when: Vec<(String, String)>,
}

/// Everything a run needs, checked.
pub struct Plan {
    /// The study's name, if the file gives one.
    pub study_name: Option<String>,
    /// One direction per objective.
    pub directions: Vec<Direction>,
    /// The storage URL.
    pub storage: String,
    /// The study's seed.
    pub seed: Option<u64>,
    /// The sampler's kind, built by [`Plan::sampler`].
    sampler: SamplerKind,
    sampler_seed: Option<u64>,
    pruner: PrunerSection,
    budget: BudgetSection,
    time: Option<Duration>,
    /// The command from the file.
    pub args: Option<Vec<String>>,
    /// The score rule.
    pub score: ScoreRule,
    /// The time limit per trial.
    pub timeout: Option<Duration>,
    /// The parameters, each after those its `when` depends on.
    pub params: Vec<ParamPlan>,
    /// The study file's text ("" without a file), as kept in the study for workers and `ask`.
    pub text: String,
}

/// Reads and checks a study file.
pub fn load(path: &Path) -> Result<Plan> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read the study file '{}'; check the path given to --config", path.display())
    })?;
    parse(&text).with_context(|| format!("invalid study file '{}'", path.display()))
}

/// The line (1-based) of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |t| t.matches('\n').count() + 1)
}

/// Parses and checks a study file's text.
pub fn parse(text: &str) -> Result<Plan> {
    let file: StudyFile = toml::from_str(text).map_err(|e| {
        let line =
            e.span().map(|s| format!("line {}: ", line_of(text, s.start))).unwrap_or_default();
        anyhow!("{line}{}", e.message())
    })?;
    plan(file, text)
}

/// Checks an empty study file (no `--config`).
pub fn empty() -> Result<Plan> {
    plan(StudyFile::default(), "")
}

fn plan(file: StudyFile, text: &str) -> Result<Plan> {
    let StudyFile { study, sampler, pruner, budget, command, params } = file;
    let directions: Vec<Direction> = match (study.direction, study.directions) {
        (Some(_), Some(_)) => {
            bail!("[study] gives both 'direction' and 'directions'; keep one")
        }
        (Some(d), None) => vec![direction(d)],
        (None, Some(ds)) if ds.is_empty() => {
            bail!("[study] directions is empty; list at least one")
        }
        (None, Some(ds)) => ds.into_iter().map(direction).collect(),
        (None, None) => vec![Direction::Minimize],
    };
    if let Some(name) = &study.name {
        if name.trim().is_empty() {
            bail!("[study] name is empty; give a name or remove the field");
        }
    }
    let time = budget.time.as_ref().map(|t| duration(t, "[budget] time")).transpose()?;
    let timeout = command.timeout.as_ref().map(|t| duration(t, "[command] timeout")).transpose()?;
    if timeout == Some(Duration::ZERO) {
        bail!("[command] timeout is zero; give a positive time such as \"10m\"");
    }
    let score =
        ScoreRule::parse(command.score.as_deref().unwrap_or("last-line"), directions.len())?;
    if let Some(args) = &command.args {
        if args.is_empty() {
            bail!("[command] args is empty; give the program and its arguments, or remove it");
        }
    }
    let params = space(params, text)?;
    let plan = Plan {
        study_name: study.name,
        directions,
        storage: study.storage.unwrap_or_else(|| DEFAULT_STORAGE.to_owned()),
        seed: study.seed,
        sampler: sampler.kind,
        sampler_seed: sampler.seed,
        pruner,
        budget,
        time,
        args: command.args,
        score,
        timeout,
        params,
        text: text.to_owned(),
    };
    // Build the sampler and pruner once now, so that their errors come before any trial.
    plan.sampler()?;
    plan.pruner()?;
    Ok(plan)
}

fn direction(d: DirectionName) -> Direction {
    match d {
        DirectionName::Minimize => Direction::Minimize,
        DirectionName::Maximize => Direction::Maximize,
    }
}

/// Parses "90", "90s", "30m", "2h", "1.5h" (a number alone is seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return None,
    };
    let n: f64 = number.trim().parse().ok()?;
    Duration::try_from_secs_f64(n * scale).ok()
}

fn duration(value: &TimeValue, field: &str) -> Result<Duration> {
    let d = match value {
        TimeValue::Seconds(s) => Duration::try_from_secs_f64(*s).ok(),
        TimeValue::Text(t) => parse_duration(t),
    };
    let shown = match value {
        TimeValue::Seconds(x) => x.to_string(),
        TimeValue::Text(t) => format!("{t:?}"),
    };
    d.ok_or_else(|| {
        anyhow!("{field}: {shown} is not a duration; give seconds or text such as \"30m\", \"2h\"")
    })
}

fn space(params: BTreeMap<String, toml::Spanned<ParamSpec>>, text: &str) -> Result<Vec<ParamPlan>> {
    let mut checked = Vec::new();
    for (name, spanned) in &params {
        let line = line_of(text, spanned.span().start);
        let p = spanned.get_ref();
        let at = || format!("line {line}: [params.{name}]");
        let distribution = distribution(name, p).with_context(at)?;
        distribution.validate(name).map_err(|e| anyhow!("{e}")).with_context(at)?;
        let mut when = Vec::new();
        for (other, value) in p.when.iter().flatten() {
            let Some(parent) = params.get(other) else {
                let known: Vec<&str> = params.keys().map(String::as_str).collect();
                bail!(
                    "{}: 'when' names the unknown parameter '{other}'; the parameters are: {}",
                    at(),
                    known.join(", ")
                );
            };
            if !matches!(parent.get_ref().kind, ParamType::Categorical) {
                bail!("{}: 'when' needs '{other}' to be categorical", at());
            }
            let value = param_value(value).map(|v| v.to_string()).ok_or_else(|| {
                anyhow!("{}: when.{other} must be a string, number or bool", at())
            })?;
            let choices: Vec<String> = parent
                .get_ref()
                .choices
                .iter()
                .flatten()
                .filter_map(param_value)
                .map(|v| v.to_string())
                .collect();
            if !choices.contains(&value) {
                bail!(
                    "{}: when.{other} = {value:?} is not one of '{other}''s choices ({})",
                    at(),
                    choices.join(", ")
                );
            }
            when.push((other.clone(), value));
        }
        checked.push(ParamPlan { name: name.clone(), distribution, when });
    }
    // Order: each parameter after those its `when` names (a cycle is an error).
    let mut ordered: Vec<ParamPlan> = Vec::with_capacity(checked.len());
    while !checked.is_empty() {
        let ready = checked
            .iter()
            .position(|p| p.when.iter().all(|(o, _)| ordered.iter().any(|q| &q.name == o)));
        match ready {
            Some(i) => ordered.push(checked.remove(i)),
            None => {
                let names: Vec<&str> = checked.iter().map(|p| p.name.as_str()).collect();
                bail!("[params]: the 'when' conditions of {} form a cycle", names.join(", "));
            }
        }
    }
    Ok(ordered)
}

fn param_value(v: &toml::Value) -> Option<ParamValue> {
    match v {
        toml::Value::String(s) => Some(ParamValue::from(s.as_str())),
        toml::Value::Integer(i) => Some(ParamValue::Int(*i)),
        toml::Value::Float(f) => Some(ParamValue::Float(*f)),
        toml::Value::Boolean(b) => Some(ParamValue::Bool(*b)),
        _ => None,
    }
}

fn distribution(name: &str, p: &ParamSpec) -> Result<Distribution> {
    let range = || -> Result<(f64, f64)> {
        match (p.low, p.high) {
            (Some(low), Some(high)) => Ok((low, high)),
            _ => bail!("a {:?} parameter needs 'low' and 'high'", p.kind),
        }
    };
    match p.kind {
        ParamType::Float => {
            if p.choices.is_some() {
                bail!("'choices' is for categorical parameters; use type = \"categorical\"");
            }
            let (low, high) = range()?;
            Ok(match (p.log, p.step) {
                (true, Some(_)) => bail!("'log' and 'step' cannot be combined"),
                (true, None) => Distribution::float_log(low, high),
                (false, Some(step)) => Distribution::float_step(low, high, step),
                (false, None) => Distribution::float(low, high),
            })
        }
        ParamType::Int => {
            if p.choices.is_some() {
                bail!("'choices' is for categorical parameters; use type = \"categorical\"");
            }
            let (low, high) = range()?;
            let int = |v: f64, field: &str| -> Result<i64> {
                if v.fract() != 0.0 || v.abs() > 9.0e15 {
                    bail!("{field} = {v} is not an integer (parameter '{name}' has type \"int\")");
                }
                Ok(v as i64)
            };
            let (low, high) = (int(low, "low")?, int(high, "high")?);
            Ok(match (p.log, p.step) {
                (true, Some(_)) => bail!("'log' and 'step' cannot be combined"),
                (true, None) => Distribution::int_log(low, high),
                (false, Some(step)) => Distribution::int_step(low, high, int(step, "step")?),
                (false, None) => Distribution::int(low, high),
            })
        }
        ParamType::Categorical => {
            if p.low.is_some() || p.high.is_some() || p.step.is_some() || p.log {
                bail!("a categorical parameter takes 'choices' only, not low/high/step/log");
            }
            let Some(choices) = &p.choices else {
                bail!("a categorical parameter needs 'choices = [...]'");
            };
            let values = choices
                .iter()
                .map(|c| {
                    param_value(c)
                        .ok_or_else(|| anyhow!("choices: {c} is not a string, number or bool"))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Distribution::categorical(values))
        }
    }
}

impl Plan {
    /// The sampler the file asks for (seeded by `[sampler] seed`, else by the study's seed).
    pub fn sampler(&self) -> Result<Box<dyn Sampler>> {
        let seed = self.sampler_seed;
        let err = |e: tunewise::Error| anyhow!("[sampler]: {e}");
        Ok(match self.sampler {
            SamplerKind::Auto => match seed {
                Some(s) => Box::new(tunewise::AutoSampler::with_seed(s)),
                None => Box::new(tunewise::AutoSampler::new()),
            },
            SamplerKind::Random => match seed {
                Some(s) => Box::new(RandomSampler::with_seed(s)),
                None => Box::new(RandomSampler::new()),
            },
            SamplerKind::Tpe => match seed {
                Some(s) => Box::new(TpeSampler::with_seed(s)),
                None => Box::new(TpeSampler::new()),
            },
            SamplerKind::Gp => match seed {
                Some(s) => Box::new(GpSampler::with_seed(s)),
                None => Box::new(GpSampler::new()),
            },
            SamplerKind::Cmaes => match seed {
                Some(s) => Box::new(CmaEsSampler::with_seed(s)),
                None => Box::new(CmaEsSampler::new()),
            },
            SamplerKind::Nsga2 => match seed {
                Some(s) => Box::new(NsgaIISampler::with_seed(s)),
                None => Box::new(NsgaIISampler::new()),
            },
            SamplerKind::Qmc => {
                let q = QmcSampler::sobol();
                Box::new(match seed {
                    Some(s) => q.seed(s),
                    None => q,
                })
            }
            SamplerKind::Grid => {
                let mut g = GridSampler::new();
                for p in &self.params {
                    g = g.auto(&p.name, p.distribution.clone()).map_err(err)?;
                }
                Box::new(match seed {
                    Some(s) => g.seed(s),
                    None => g,
                })
            }
        })
    }

    /// The pruner the file asks for (`None` for no pruning).
    pub fn pruner(&self) -> Result<Option<Box<dyn Pruner>>> {
        let p = &self.pruner;
        p.check_settings()?;
        let err = |e: tunewise::Error| anyhow!("[pruner]: {e}");
        let percentile = |b: tunewise::PercentileBuilder| {
            let mut b = b;
            if let Some(n) = p.n_startup_trials {
                b = b.n_startup_trials(n);
            }
            if let Some(n) = p.n_warmup_steps {
                b = b.n_warmup_steps(n);
            }
            if let Some(n) = p.interval_steps {
                b = b.interval_steps(n);
            }
            b.build().map_err(err)
        };
        Ok(match p.kind {
            PrunerKind::None => None,
            PrunerKind::Median => Some(Box::new(percentile(PercentilePruner::median_builder())?)),
            PrunerKind::Percentile => {
                let Some(q) = p.percentile else {
                    bail!("[pruner] kind = \"percentile\" needs 'percentile' (e.g. 25.0)");
                };
                Some(Box::new(percentile(PercentilePruner::builder(q))?))
            }
            PrunerKind::Threshold => {
                let mut b = ThresholdPruner::builder();
                if let Some(v) = p.lower {
                    b = b.lower(v);
                }
                if let Some(v) = p.upper {
                    b = b.upper(v);
                }
                if let Some(n) = p.n_warmup_steps {
                    b = b.n_warmup_steps(n);
                }
                if let Some(n) = p.interval_steps {
                    b = b.interval_steps(n);
                }
                Some(Box::new(b.build().map_err(err)?))
            }
            PrunerKind::Asha => {
                let mut b = SuccessiveHalvingPruner::builder();
                if let Some(n) = p.min_resource {
                    b = b.min_resource(n);
                }
                if let Some(n) = p.reduction_factor {
                    b = b.reduction_factor(n);
                }
                Some(Box::new(b.build().map_err(err)?))
            }
            PrunerKind::Hyperband => {
                let mut b = HyperbandPruner::builder();
                if let Some(n) = p.min_resource {
                    b = b.min_resource(n);
                }
                if let Some(n) = p.max_resource {
                    b = b.max_resource(n);
                }
                if let Some(n) = p.reduction_factor {
                    b = b.reduction_factor(n);
                }
                Some(Box::new(b.build().map_err(err)?))
            }
            PrunerKind::Wilcoxon => {
                let mut b = WilcoxonPruner::builder();
                if let Some(v) = p.p_threshold {
                    b = b.p_threshold(v);
                }
                if let Some(n) = p.n_startup_trials {
                    b = b.n_startup_steps(n);
                }
                Some(Box::new(b.build().map_err(err)?))
            }
        })
    }

    /// Suggests every parameter whose `when` holds, in the plan's order (a parameter comes after
    /// those its condition names): what `run`, `worker` and `ask` give a trial.
    pub fn suggest_all(
        &self,
        trial: &mut tunewise::Trial,
    ) -> tunewise::Result<std::collections::BTreeMap<String, tunewise::ParamValue>> {
        let mut values = std::collections::BTreeMap::new();
        for p in &self.params {
            let active = p.when.iter().all(|(other, want)| {
                values.get(other).is_some_and(|v: &tunewise::ParamValue| &v.to_string() == want)
            });
            if active {
                let v = trial.suggest(&p.name, p.distribution.clone())?;
                values.insert(p.name.clone(), v);
            }
        }
        Ok(values)
    }

    /// The budget: `[budget] trials` is the study's total, whatever the number of runs and
    /// workers ([`Budget::study_trials`]); `--trials` is a count for this process. Both apply
    /// when both are given; `[budget] time` is this process's time.
    pub fn budget(&self, trials: Option<usize>) -> Result<Budget> {
        if trials.is_none() && self.budget.trials.is_none() && self.time.is_none() {
            bail!(
                "no budget: give --trials N, or [budget] trials = N or time = \"30m\" in the study \
                 file"
            );
        }
        let mut b = Budget::default();
        if let Some(n) = trials {
            b = b.with_trials(n);
        }
        if let Some(n) = self.budget.trials {
            b = b.with_study_trials(n as u64);
        }
        if let Some(t) = self.time {
            b = b.with_time(t);
        }
        if let Some(n) = self.budget.max_failed {
            b = b.max_failed(n);
        }
        if let Some(v) = self.budget.target {
            b = b.target(v);
        }
        if let Some(n) = self.budget.patience {
            b = b.patience(n);
        }
        // Refused here, before the study is created, rather than by the first trial.
        b.validate(self.directions.len()).map_err(|e| anyhow!("[budget]: {e}"))?;
        Ok(b)
    }

    /// The trial count and time limit of [`Plan::budget`], for the progress bar: `--trials`, or
    /// what the study-wide `[budget] trials` leaves beside the `stored` trials, whichever is less.
    pub fn limits(&self, trials: Option<usize>, stored: usize) -> crate::output::Limits {
        let left = self.budget.trials.map(|n| n.saturating_sub(stored));
        let trials = match (trials, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        crate::output::Limits { trials, time: self.time }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("-3s"), None);
    }

    #[test]
    fn conditional_parameters_come_after_their_condition() {
        let plan = parse(
            "[params.a]\ntype = \"float\"\nlow = 0\nhigh = 1\nwhen = { z = \"on\" }\n\
             [params.z]\ntype = \"categorical\"\nchoices = [\"on\", \"off\"]\n",
        )
        .expect("valid");
        let names: Vec<&str> = plan.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["z", "a"]);
        let err =
            parse("[params.a]\ntype = \"int\"\nlow = 0.5\nhigh = 2\n").err().expect("invalid");
        assert!(format!("{err:#}").contains("not an integer"), "{err:#}");
    }
}
