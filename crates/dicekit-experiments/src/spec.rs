//! An experiment as data: a spec (TOML) with its setup, `--quick` overrides, variants and
//! scores, a training-config template and a report template (minijinja), all under
//! `configs/experiments/<name>/` and compiled into the binary.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::stats::{fmt_mean_sd, mean_sd};

/// One experiment's files.
#[derive(Debug, Clone, Copy)]
pub struct Files {
    /// Where they lie, for messages (`configs/experiments/clouds`).
    pub dir: &'static str,
    /// `spec.toml`.
    pub spec: &'static str,
    /// `train.toml.j2`: one run's training config.
    pub train: &'static str,
    /// `report.md.j2`: the report.
    pub report: &'static str,
}

impl Files {
    /// One run's training config from `train.toml.j2`.
    ///
    /// # Errors
    /// A template error, naming the file and line.
    pub fn render_train(&self, context: &Value) -> Result<String, String> {
        render(&format!("{}/train.toml.j2", self.dir), self.train, context)
    }

    /// The report from `report.md.j2`.
    ///
    /// # Errors
    /// A template error, naming the file and line.
    pub fn render_report(&self, context: &Value) -> Result<String, String> {
        render(&format!("{}/report.md.j2", self.dir), self.report, context)
    }
}

/// The files of the experiment in `configs/experiments/<name>/`, compiled in.
macro_rules! experiment_files {
    ($name:literal) => {
        $crate::spec::Files {
            dir: concat!("configs/experiments/", $name),
            spec: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../configs/experiments/",
                $name,
                "/spec.toml"
            )),
            train: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../configs/experiments/",
                $name,
                "/train.toml.j2"
            )),
            report: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../configs/experiments/",
                $name,
                "/report.md.j2"
            )),
        }
    };
}
pub(crate) use experiment_files;

/// A variant: what the runs of one arm of the comparison share. Keys besides `name` and `what`
/// are the variant's parameters (`params`), so no key is unknown here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Variant {
    /// Short name (folder names, tables, templates' `variant.name`).
    pub name: String,
    /// What it means, in the report.
    pub what: String,
    /// Anything else the templates read as `variant.<key>`.
    #[serde(default, flatten)]
    pub params: Map<String, Value>,
}

/// A score of a run: a key of its result and its label in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreSpec {
    /// Key in the run's result.
    pub key: String,
    /// Column label.
    pub label: String,
    /// Decimals of the report's `mean ± sd`.
    #[serde(default = "three")]
    pub digits: usize,
}

fn three() -> usize {
    3
}

/// `spec.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The experiment's name (`dicekit experiment <name>`).
    pub name: String,
    /// The report's title.
    pub title: String,
    /// The arms of the comparison.
    pub variants: Vec<Variant>,
    /// Parts of an experiment that runs its variants on several data sets (each experiment
    /// reads its own fields).
    #[serde(default)]
    pub parts: Vec<Value>,
    /// Variants trained as a control, after the others and reported apart.
    #[serde(default)]
    pub controls: Vec<Variant>,
    /// The scores reported per variant (mean ± sd over seeds).
    #[serde(default)]
    pub scores: Vec<ScoreSpec>,
    /// Values the templates read as `setup.<key>`, for the full run.
    setup: Map<String, Value>,
    /// The values `--quick` replaces.
    #[serde(default)]
    quick: Map<String, Value>,
}

impl Spec {
    /// Parses the spec of `files`.
    ///
    /// # Errors
    /// A TOML error or a `--quick` override of a key the setup does not have, naming the file.
    pub fn parse(files: &Files) -> Result<Self, String> {
        let spec: Spec = toml::from_str(files.spec)
            .map_err(|e| format!("{}/spec.toml: {}", files.dir, one_line(&e.to_string())))?;
        if let Some(k) = spec.quick.keys().find(|k| !spec.setup.contains_key(*k)) {
            return Err(format!(
                "{}/spec.toml: [quick] {k} is not a [setup] key",
                files.dir
            ));
        }
        Ok(spec)
    }

    /// The setup, with the `--quick` values when `quick` (tables merged key by key).
    pub fn setup(&self, quick: bool) -> Map<String, Value> {
        let mut s = self.setup.clone();
        if quick {
            merge(&mut s, &self.quick);
        }
        s
    }

    /// An integer of the setup.
    ///
    /// # Errors
    /// When the key is missing or not a non-negative integer.
    pub fn setup_u64(setup: &Map<String, Value>, key: &str) -> Result<u64, String> {
        setup
            .get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("the experiment's setup has no integer `{key}`"))
    }

    /// For each variant name and each score key, `{mean, sd, text}` over the runs of that
    /// variant (`text`: `mean ± sd` with the score's decimals, or `–`): what the report's tables and
    /// sentences read as `stats.<variant>.<key>`. `runs` are the run results as JSON objects
    /// with a `variant` key naming their variant (field `variant_key`).
    pub fn stats(&self, runs: &[Value], variant_key: &str) -> Value {
        let mut out = Map::new();
        for v in &self.variants {
            let mine: Vec<&Value> = runs
                .iter()
                .filter(|r| r[variant_key].as_str() == Some(v.name.as_str()))
                .collect();
            let mut per = Map::new();
            for s in &self.scores {
                let values: Vec<f64> = mine
                    .iter()
                    .map(|r| r[s.key.as_str()].as_f64().unwrap_or(f64::NAN))
                    .collect();
                let (mean, sd) = mean_sd(&values).unzip();
                per.insert(
                    s.key.clone(),
                    serde_json::json!({"mean": mean, "sd": sd, "text": fmt_mean_sd(&values, s.digits)}),
                );
            }
            out.insert(v.name.clone(), Value::Object(per));
        }
        Value::Object(out)
    }
}

/// Renders the template `source` (named `name` in errors) with `context`, as the run report's
/// templates are rendered ([`dicekit_report::render`]: Jinja's `trim_blocks` and
/// `lstrip_blocks`, numbers printed as Rust prints them, the `f3` filter).
///
/// # Errors
/// A syntax or rendering error, naming the template and line.
pub fn render(name: &str, source: &str, context: &Value) -> Result<String, String> {
    Ok(dicekit_report::render(name, source, context)?)
}

/// `over` written into `base`: tables merged key by key, anything else replaced.
fn merge(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An experiment's report writer: its files and spec, `results.json`, the options of the run.
#[cfg(test)]
pub(crate) type ReportFn =
    fn(&Files, &Spec, &Value, &crate::ExperimentOptions) -> Result<String, String>;

/// `report` of `json` under the spec of `files`.
#[cfg(test)]
pub(crate) fn render_results(
    files: Files,
    report: ReportFn,
    json: &Value,
    args: &crate::ExperimentOptions,
) -> Result<String, String> {
    report(&files, &Spec::parse(&files)?, json, args)
}

/// `(rendered, committed)`: the report `report` writes from the committed `results.json` of the
/// full run in `docs/experiments/<name>/`, and the committed `report.md` beside it.
#[cfg(test)]
pub(crate) fn committed_report(name: &str, files: Files, report: ReportFn) -> (String, String) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/experiments")
        .join(name);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let json: Value = serde_json::from_str(&read("results.json")).unwrap();
    let args = crate::ExperimentOptions {
        quick: false,
        seeds: json["seeds"].as_array().unwrap().len(),
        out: None,
    };
    let rendered = render_results(files, report, &json, &args).unwrap();
    (rendered, read("report.md"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_replaces_setup_values_and_f3_formats() {
        let files = Files {
            dir: "t",
            spec: "name = \"t\"\ntitle = \"T\"\nvariants = [{ name = \"a\", what = \"A\", k = 2 }]\nscores = [{ key = \"dice\", label = \"Dice\" }]\n[setup]\nsize = 8\nlr = 0.5\n[quick]\nsize = 4\n",
            train: "",
            report: "",
        };
        let spec = Spec::parse(&files).unwrap();
        assert_eq!(spec.setup(false)["size"], 8);
        assert_eq!(spec.setup(true)["size"], 4);
        assert_eq!(spec.variants[0].params["k"], 2);
        let runs = vec![
            serde_json::json!({"v": "a", "dice": 0.5}),
            serde_json::json!({"v": "a", "dice": 0.7}),
        ];
        let stats = spec.stats(&runs, "v");
        assert_eq!(stats["a"]["dice"]["text"], "0.600 ± 0.141");
        let out = render(
            "t",
            "{{ stats.a.dice.mean|f3 }} {{ none|f3 }}",
            &serde_json::json!({"stats": stats, "none": null}),
        )
        .unwrap();
        assert_eq!(out, "0.600 –");
        let bad = Files {
            spec: "name = \"t\"\ntitle = \"T\"\nvariants = []\nscores = []\n[setup]\na = 1\n[quick]\nb = 2\n",
            ..files
        };
        assert!(Spec::parse(&bad).unwrap_err().contains("[quick] b"));
    }
}
