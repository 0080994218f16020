//! Post bodies, comments and scores: the prose of one question, drawn from
//! the vocabulary with the question's own random stream.

use super::vocabulary::{Fill, Vocabulary, inline_code};
use crate::model::{Block, Body, Comment, Inline, push_inline_text};
use crate::rng::Rng;
use crate::text::encode_tag;

/// Which sentence pool to draw from.
#[derive(Clone, Copy)]
pub(super) enum Voice {
    Question = 0,
    Answer = 1,
    Comment = 2,
}

pub(super) fn sentence(
    rng: &mut Rng,
    v: &Vocabulary,
    f: &Fill<'_>,
    voice: Voice,
    out: &mut Vec<Inline>,
) {
    let template = f.apply(rng.pick(&v.sentences[voice as usize]).as_str());
    let mut pieces = template.split("{code}").peekable();
    while let Some(piece) = pieces.next() {
        if !piece.is_empty() {
            match out.last_mut() {
                Some(Inline::Text(t)) => t.push_str(piece),
                _ => out.push(Inline::Text(piece.to_string())),
            }
        }
        if pieces.peek().is_some() {
            out.push(Inline::Code(inline_code(rng, f)));
        }
    }
}

pub(super) fn paragraph(
    rng: &mut Rng,
    v: &Vocabulary,
    f: &Fill<'_>,
    voice: Voice,
    sentences: u64,
) -> Vec<Inline> {
    let mut out = Vec::new();
    for i in 0..sentences {
        if i > 0 {
            out.push(Inline::Text(" ".into()));
        }
        sentence(rng, v, f, voice, &mut out);
    }
    if rng.chance(150) {
        out.push(Inline::Text(" See the ".into()));
        out.push(Inline::Link {
            href: format!(
                "https://docs.example.org/{}/api.html?q={}&v=2",
                encode_tag(f.tag),
                f.verb
            ),
            text: format!("{} reference", f.verb),
        });
        out.push(Inline::Text(" for the details.".into()));
    }
    // Merge adjacent text pieces so the HTML has one text node per run.
    let mut merged: Vec<Inline> = Vec::with_capacity(out.len());
    for inline in out {
        match (merged.last_mut(), inline) {
            (Some(Inline::Text(a)), Inline::Text(b)) => a.push_str(&b),
            (_, other) => merged.push(other),
        }
    }
    merged
}

pub(super) fn body(rng: &mut Rng, v: &Vocabulary, f: &Fill<'_>, is_question: bool) -> Body {
    let mut blocks = Vec::new();
    let voice = if is_question {
        Voice::Question
    } else {
        Voice::Answer
    };
    let paras = 1 + rng.below(if is_question { 3 } else { 2 });
    for p in 0..paras {
        let sentences = 1 + rng.below(3);
        blocks.push(Block::Para(paragraph(rng, v, f, voice, sentences)));
        if p == 0 && rng.chance(if is_question { 650 } else { 450 }) {
            let lang = if f.tag.contains('#') || f.tag.contains('+') {
                "cpp"
            } else {
                "python"
            };
            blocks.push(Block::Code {
                lang: lang.into(),
                code: f.apply(rng.pick(&v.code).as_str()),
            });
        }
        if p == 0 && is_question && rng.chance(180) {
            blocks.push(Block::Quote(vec![Inline::Text(f.err.to_string())]));
        }
    }
    if rng.chance(150) {
        let items = (0..2 + rng.below(3))
            .map(|_| {
                let mut item = Vec::new();
                sentence(rng, v, f, voice, &mut item);
                item
            })
            .collect();
        blocks.push(Block::List(items));
    }
    Body { blocks }
}

pub(super) fn comments(
    rng: &mut Rng,
    v: &Vocabulary,
    f: &Fill<'_>,
    users: usize,
    after: i64,
    next_id: &mut u64,
) -> Vec<Comment> {
    let n = if rng.chance(500) { 0 } else { 1 + rng.below(3) };
    (0..n)
        .map(|_| {
            *next_id += 1 + rng.below(7);
            let mut inl = Vec::new();
            sentence(rng, v, f, Voice::Comment, &mut inl);
            let mut text = String::new();
            push_inline_text(&mut text, &inl);
            Comment {
                id: *next_id,
                score: rng.below(12) as u32,
                user: rng.below(users as u64) as usize,
                text,
                at: after + rng.range(60, 86_400 * 5),
            }
        })
        .collect()
}

pub(super) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(super) fn vote_score(rng: &mut Rng, negative_per_mille: u64) -> i64 {
    if rng.chance(negative_per_mille) {
        -rng.range(1, 8)
    } else if rng.chance(120) {
        rng.range(40, 900)
    } else {
        rng.range(0, 35)
    }
}
