use std::path::PathBuf;
use std::process::ExitCode;

use complaint_monitor::config::Config;
use complaint_monitor::enrich::matcher::BrandMatcher;
use complaint_monitor::enrich::query::Input;

/// `match TEXT [--brand B]`: whether each brand matches a text, and why.
#[derive(clap::Args)]
pub struct Args {
    /// The text of a mention.
    text: String,
    /// Only this brand.
    #[arg(long)]
    brand: Option<String>,
    /// The mention's language, source, author and link, for queries that
    /// read them (`lang:`, `source:`, `author:`, `url:`).
    #[arg(long)]
    lang: Option<String>,
    #[arg(long)]
    source: Option<String>,
    #[arg(long)]
    author: Option<String>,
    #[arg(long)]
    url: Option<String>,
    /// Default: the demo config.
    #[arg(long)]
    config: Option<PathBuf>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = Config::load_or_demo(self.config.as_ref())?;
        let matcher = BrandMatcher::new(&config.brands)?;
        let input = Input {
            text: &self.text,
            lang: self.lang.as_deref(),
            source: self.source.as_deref(),
            author: self.author.as_deref(),
            url: self.url.as_deref(),
        };
        let chosen: Vec<usize> = match &self.brand {
            Some(name) => vec![matcher
                .brand_id(name)
                .ok_or_else(|| anyhow::anyhow!("no brand named {name:?} in the config"))?],
            None => (0..matcher.brand_names().len()).collect(),
        };
        let mut any = false;
        for id in chosen {
            let why = matcher.explain(id, &input);
            any |= why.matched();
            let name = &matcher.brand_names()[id];
            let verdict = if why.matched() { "matches" } else { "does not match" };
            let mut reasons = Vec::new();
            if let Some(keyword) = &why.keyword {
                reasons.push(format!("keyword {keyword:?}"));
            }
            if let Some((query, (matched, clause))) = &why.query {
                reasons.push(if *matched {
                    format!("query {query:?}: {clause} holds")
                } else {
                    format!("query {query:?}: {clause} does not hold")
                });
            }
            if reasons.is_empty() {
                reasons.push("no keyword, handle or hashtag of it".into());
            }
            println!("{name}: {verdict} ({})", reasons.join("; "));
        }
        Ok(if any { ExitCode::SUCCESS } else { ExitCode::from(1) })
    }
}
