//! `tunewise run`: checks everything, then runs the study.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use tunewise::storage::Storage;
use tunewise::{Budget, Flow, Study, StudyBuilder, Trial, TrialError};

use crate::command::{self, RunError, Template};
use crate::config::{self, Plan};
use crate::open_storage;
use crate::output::{OutputArgs, Reporter};
use crate::serve::{self, SocketDir};
use crate::RunArgs;

/// Exit status after Ctrl-C (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

/// Runs the study; `Ok` holds the exit status.
pub fn run(args: RunArgs) -> Result<ExitCode> {
    let plan = match &args.config {
        Some(path) => config::load(path)?,
        None => config::empty()?,
    };
    let budget = plan.budget(args.trials)?;
    let argv = match (&plan.args, args.command.is_empty()) {
        (_, false) => args.command.clone(),
        (Some(a), true) => a.clone(),
        (None, true) => Vec::new(),
    };
    let template = command_template(&plan, &argv, args.jobs)?;

    let url = args.storage.clone().unwrap_or_else(|| plan.storage.clone());
    let storage = open_storage(&url)?;
    let name = args
        .study
        .clone()
        .or_else(|| plan.study_name.clone())
        .or_else(|| {
            args.config.as_ref().and_then(|p| p.file_stem()).map(|s| s.to_string_lossy().into())
        })
        .unwrap_or_else(|| "tunewise".to_owned());
    let study = study_builder(&plan, &name, storage, default_worker_id())?
        .load_if_exists(true)
        .create()
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("cannot create or load the study '{name}' in '{url}'"))?;
    store_definition(&study, args.config.is_some().then_some(&plan), &argv)?;
    let settings =
        Settings { budget, jobs: args.jobs, trials: args.trials, url: &url, output: &args.output };
    execute(&study, &plan, &template, settings)
}

/// Checks `-j` and the command (its placeholders, and that its program exists on this
/// machine) before anything is stored or run.
pub(crate) fn command_template(plan: &Plan, argv: &[String], jobs: usize) -> Result<Template> {
    if jobs == 0 {
        bail!("-j/--jobs must be at least 1");
    }
    let names: Vec<&str> = plan.params.iter().map(|p| p.name.as_str()).collect();
    let template = Template::parse(argv, &names)?;
    if template.program().contains('{') {
        bail!("the program (first word of the command) cannot hold a {{parameter}}");
    }
    command::find_program(&template.program())?;
    Ok(template)
}

/// `hostname-pid`: tells the workers of a shared study apart (`tunewise trials` shows it).
pub(crate) fn default_worker_id() -> String {
    let host = whoami::hostname().unwrap_or_else(|_| "localhost".to_owned());
    format!("{host}-{}", std::process::id())
}

/// A study builder with the plan's directions, sampler, pruner and seed.
pub(crate) fn study_builder(
    plan: &Plan,
    name: &str,
    storage: Arc<dyn Storage>,
    worker_id: String,
) -> Result<StudyBuilder> {
    let mut builder = Study::builder()
        .name(name)
        .directions(plan.directions.clone())
        .storage(storage)
        .sampler(plan.sampler()?)
        .worker_id(worker_id);
    if let Some(pruner) = plan.pruner()? {
        builder = builder.pruner(pruner);
    }
    if let Some(seed) = plan.seed {
        builder = builder.seed(seed);
    }
    Ok(builder)
}

/// How one `run` or `worker` call runs its trials.
pub(crate) struct Settings<'a> {
    /// When to stop.
    pub budget: Budget,
    /// Trials at a time.
    pub jobs: usize,
    /// `--trials`, this call's own trial count (for the progress bar).
    pub trials: Option<usize>,
    /// The storage URL, as given (for the first line).
    pub url: &'a str,
    /// How the trials are shown.
    pub output: &'a OutputArgs,
}

/// Runs trials of `study` until the budget stops them (or Ctrl-C), shown as `settings.output`
/// says, then prints the summary and the best trial. Shared by `run` and `worker`.
pub(crate) fn execute(
    study: &Study,
    plan: &Plan,
    template: &Template,
    settings: Settings<'_>,
) -> Result<ExitCode> {
    let Settings { budget, jobs, trials, url, output } = settings;
    let name = study.name();
    let before = study.trials().map_err(|e| anyhow!("{e}"))?.len();
    eprintln!("study '{name}' in {url}: {before} trial(s) so far (worker {})", study.worker_id());
    // The programs inherit it (set before any thread starts).
    std::env::set_var("TUNEWISE_WORKER_ID", study.worker_id());

    let reporter = Reporter::new(output);
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let (flag, reporter) = (interrupted.clone(), reporter.clone());
        // A second Ctrl-C leaves at once.
        ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(INTERRUPTED));
            }
            reporter.message(
                "interrupted: stopping after the running trials (Ctrl-C again to quit now)",
            );
        })
        .context("cannot install the Ctrl-C handler")?;
    }
    let fatal: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    {
        let (interrupted, fatal, reporter) = (interrupted.clone(), fatal.clone(), reporter.clone());
        study.add_callback(move |_, t| {
            reporter.trial(t);
            let fatal = fatal.lock().map(|f| f.is_some()).unwrap_or(true);
            if fatal || interrupted.load(Ordering::SeqCst) {
                Flow::Stop
            } else {
                Flow::Continue
            }
        });
    }

    let ctx = TrialContext {
        plan,
        template,
        interrupted: &interrupted,
        fatal: &fatal,
        params_dir: std::env::temp_dir(),
        sockets: SocketDir::default(),
    };
    reporter.start(study, plan.limits(trials, before))?;
    let report = study.optimize_parallel(|trial| ctx.evaluate(trial), budget, jobs);
    reporter.stop();
    let report = report.map_err(|e| anyhow!("{e}"))?;
    if let Some(message) = fatal.lock().ok().and_then(|mut f| f.take()) {
        bail!("{message}");
    }
    reporter.finish(&report, interrupted.load(Ordering::SeqCst), study)?;
    if interrupted.load(Ordering::SeqCst) {
        return Ok(ExitCode::from(INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// The study attribute holding the study file's text (for `tunewise worker` and `tunewise ask`).
pub const STUDY_FILE_ATTR: &str = "tunewise_cli.study_file";
/// The study attribute holding the command, as a JSON array of its words.
pub const COMMAND_ATTR: &str = "tunewise_cli.command";

/// Keeps the study file's text and the command in the study, so that a worker on another machine
/// (or `ask`) can join it with only the storage URL and the study's name. Written when they
/// changed: the latest `run` defines the study for the workers that join after it.
fn store_definition(study: &Study, plan: Option<&Plan>, argv: &[String]) -> Result<()> {
    if let Some(plan) = plan {
        store_study_file(study, plan)?;
    }
    let command = serde_json::Value::from(argv.to_vec());
    if study.record().user_attrs.get(COMMAND_ATTR) != Some(&command) {
        study
            .set_user_attr(COMMAND_ATTR, command)
            .map_err(|e| anyhow!("{e}"))
            .context("cannot store the command in the study")?;
    }
    Ok(())
}

/// Keeps the study file's text (read once, by [`config::load`]) in the study when it changed.
pub(crate) fn store_study_file(study: &Study, plan: &Plan) -> Result<()> {
    let stored = study.record().user_attrs.get(STUDY_FILE_ATTR).and_then(|v| v.as_str());
    if stored != Some(plan.text.as_str()) {
        study
            .set_user_attr(STUDY_FILE_ATTR, plan.text.as_str())
            .map_err(|e| anyhow!("{e}"))
            .context("cannot store the study file in the study")?;
    }
    Ok(())
}

struct TrialContext<'a> {
    plan: &'a Plan,
    template: &'a Template,
    interrupted: &'a AtomicBool,
    fatal: &'a Mutex<Option<String>>,
    params_dir: PathBuf,
    /// Where the trials' sockets are (`tunewise suggest` / `report`).
    sockets: SocketDir,
}

impl TrialContext<'_> {
    fn evaluate(&self, trial: &mut Trial) -> std::result::Result<Vec<f64>, TrialError> {
        let values = self.plan.suggest_all(trial)?;
        let file = self.params_dir.join(format!(
            "tunewise-{}-trial-{}.json",
            std::process::id(),
            trial.number()
        ));
        // `ParamValue` serializes as a plain JSON number, bool or string.
        let json = serde_json::to_string(&values).unwrap_or_default();
        std::fs::write(&file, json).map_err(|e| {
            TrialError::failed(format!("cannot write the parameters file {}: {e}", file.display()))
        })?;
        let mut env: Vec<(String, String)> =
            values.iter().map(|(k, v)| (command::env_name(k), v.to_string())).collect();
        env.push(("TUNEWISE_PARAMS_FILE".into(), file.display().to_string()));
        env.push(("TUNEWISE_TRIAL_NUMBER".into(), trial.number().to_string()));
        // The program may ask for more parameters and report intermediate values through the
        // trial's socket (`tunewise suggest` / `tunewise report`).
        let server = match self.sockets.server(trial.number()) {
            Ok(server) => server,
            Err(e) => {
                let _ = std::fs::remove_file(&file);
                return Err(self.fail_run(format!("{e:#}")));
            }
        };
        env.push((serve::SOCKET_ENV.into(), server.path().display().to_string()));
        let argv = self.template.render(&values);
        let mut outcome = serve::Outcome::default();
        let result = command::run_trial(
            &argv,
            &env,
            self.plan.timeout,
            &self.plan.score,
            self.plan.directions.len(),
            self.interrupted,
            &mut || server.serve(&mut |request| serve::answer(trial, request, &mut outcome)),
        );
        drop(server);
        let _ = std::fs::remove_file(&file);
        // Once the pruner said stop, the trial is pruned, whatever the program did after.
        if outcome.pruned_at.is_some() {
            return Err(TrialError::Pruned);
        }
        match result {
            Ok(v) => Ok(v),
            Err(RunError::Failed(m)) => Err(TrialError::Failed(m)),
            Err(RunError::Interrupted) => Err(TrialError::failed("interrupted by Ctrl-C")),
            Err(RunError::Spawn(m)) => Err(self.fail_run(m)),
        }
    }

    /// Fails the trial with a problem that stops the whole run (the next trial would meet it
    /// too).
    fn fail_run(&self, message: String) -> TrialError {
        if let Ok(mut f) = self.fatal.lock() {
            f.get_or_insert(message.clone());
        }
        TrialError::Failed(message)
    }
}
