//! Report templates (minijinja): Jinja's `trim_blocks` and `lstrip_blocks`, numbers printed as
//! Rust prints them, and `f3` (three decimals, `–` for none).
use serde::Serialize;

/// A template that does not parse or render; the message names the template and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

impl From<TemplateError> for String {
    fn from(e: TemplateError) -> String {
        e.0
    }
}

/// Renders the template `source` (named `name` in errors) with `context`.
///
/// # Errors
/// A syntax or rendering error, naming the template and line.
pub fn render(name: &str, source: &str, context: &impl Serialize) -> Result<String, TemplateError> {
    render_inner(name, source, context).map_err(TemplateError)
}

fn render_inner(name: &str, source: &str, context: &impl Serialize) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| format!("{name}: {e}"))?;
    env.set_syntax(syntax);
    // Numbers as Rust writes them (`1`, not Jinja's `1.0`), as the reports always did.
    env.set_formatter(|out, state, value| {
        if value.kind() == minijinja::value::ValueKind::Number
            && !value.is_integer()
            && let Ok(x) = f64::try_from(value.clone())
        {
            return write!(out, "{x}").map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
            });
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.add_filter("f3", |v: Option<f64>| {
        v.map_or("–".to_string(), |v| format!("{v:.3}"))
    });
    env.add_template(name, source)
        .map_err(|e| format!("{name}: {e}"))?;
    env.get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(context)))
        .map_err(|e| format!("{name}: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_print_as_rust_prints_them() {
        let out = super::render(
            "t",
            "{{ a }} {{ b }} {{ c|f3 }} {{ d|f3 }}",
            &serde_json::json!({"a": 1.0, "b": 0.25, "c": 0.5, "d": null}),
        )
        .unwrap();
        assert_eq!(out, "1 0.25 0.500 –");
    }
}
