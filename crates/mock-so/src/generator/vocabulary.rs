//! The word lists the generator draws from (`templates/*.txt`, compiled
//! in) and the placeholder values of one question ([`Fill`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::rng::Rng;

pub(super) struct Vocabulary {
    pub(super) users: Vec<String>,
    pub(super) titles: Vec<String>,
    /// Sentences for question bodies, answer bodies and comments.
    pub(super) sentences: [Vec<String>; 3],
    pub(super) code: Vec<String>,
    pub(super) verbs: Vec<String>,
    pub(super) objs: Vec<String>,
    pub(super) errs: Vec<String>,
    pub(super) extra_tags: Vec<String>,
}

pub(super) fn template_lines(src: &str) -> impl Iterator<Item = &str> {
    src.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

pub(super) fn vocabulary() -> &'static Vocabulary {
    static VOCAB: OnceLock<Vocabulary> = OnceLock::new();
    VOCAB.get_or_init(|| {
        let words: HashMap<&str, Vec<String>> =
            template_lines(include_str!("../../templates/vocabulary/words.txt"))
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| {
                    (
                        k.trim(),
                        v.split(',')
                            .map(|w| w.trim().to_string())
                            .filter(|w| !w.is_empty())
                            .collect(),
                    )
                })
                .collect();
        let get = |k: &str| words.get(k).cloned().unwrap_or_default();
        let code_src = include_str!("../../templates/vocabulary/code.txt");
        let code = code_src
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
            .split("\n---\n")
            .map(|c| format!("{}\n", c.trim_matches('\n')))
            .collect();
        Vocabulary {
            users: template_lines(include_str!("../../templates/vocabulary/users.txt"))
                .map(|l| l.trim().to_string())
                .collect(),
            titles: template_lines(include_str!("../../templates/vocabulary/titles.txt"))
                .map(String::from)
                .collect(),
            sentences: {
                let lines: Vec<(&str, String)> =
                    template_lines(include_str!("../../templates/vocabulary/sentences.txt"))
                        .filter_map(|l| l.split_once(':'))
                        .map(|(kind, text)| (kind.trim(), text.trim().to_string()))
                        .collect();
                let of = |kinds: &[&str]| {
                    lines
                        .iter()
                        .filter(|(k, _)| kinds.contains(k))
                        .map(|(_, t)| t.clone())
                        .collect()
                };
                [of(&["Q", "*"]), of(&["A", "*"]), of(&["*", "Q", "A"])]
            },
            code,
            verbs: get("verb"),
            objs: get("obj"),
            errs: get("err"),
            extra_tags: get("extra_tags"),
        }
    })
}

/// Values substituted into one question's templates.
pub(super) struct Fill<'a> {
    pub(super) tag: &'a str,
    pub(super) verb: &'a str,
    pub(super) obj: &'a str,
    pub(super) obj2: &'a str,
    pub(super) err: &'a str,
    pub(super) n: u64,
}

impl Fill<'_> {
    /// Substitutes the placeholders in one pass (unknown ones are kept).
    pub(super) fn apply(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 64);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open..];
            let Some(close) = after.find('}') else {
                break;
            };
            let value = match &after[1..close] {
                "tag" => Some(self.tag),
                "verb" => Some(self.verb),
                "obj" => Some(self.obj),
                "obj2" => Some(self.obj2),
                "err" => Some(self.err),
                "n" => None,
                _ => {
                    out.push_str(&after[..=close]);
                    rest = &after[close + 1..];
                    continue;
                }
            };
            match value {
                Some(v) => out.push_str(v),
                None => {
                    let _ = write!(out, "{}", self.n);
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }

    fn ident(&self) -> String {
        self.obj.replace([' ', '\''], "_").to_ascii_lowercase()
    }
}

pub(super) fn new_fill<'a>(rng: &mut Rng, v: &'a Vocabulary, tag: &'a str) -> Fill<'a> {
    let obj = rng.pick(&v.objs).as_str();
    let mut obj2 = rng.pick(&v.objs).as_str();
    if obj2 == obj {
        obj2 = &v.objs[(v.objs.iter().position(|o| o == obj).unwrap_or(0) + 1) % v.objs.len()];
    }
    Fill {
        tag,
        verb: rng.pick(&v.verbs).as_str(),
        obj,
        obj2,
        err: rng.pick(&v.errs).as_str(),
        n: [3, 8, 12, 50, 100, 250, 1000, 20_000, 1_000_000][rng.below(9) as usize],
    }
}

pub(super) fn inline_code(rng: &mut Rng, f: &Fill<'_>) -> String {
    match rng.below(6) {
        0 => format!("{}.{}()", f.ident(), f.verb),
        1 => format!("{}(axis=1)", f.verb),
        2 => format!("{}.compute()", f.tag.replace(['.', '+', '#', '-'], "_")),
        3 => "map_partitions".to_string(),
        4 => format!("set_index(\"{}\")", f.obj.split(' ').next().unwrap_or("id")),
        _ => "x < y && y > 0".to_string(),
    }
}
