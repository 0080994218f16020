//! Deterministic fake content: the user pool, every question with its
//! answers and comments, and the listing orders, all derived from the
//! configuration's seed (one random stream per question, so a question does
//! not change when the site grows).

mod prose;
mod vocabulary;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use prose::{body, capitalize, comments, vote_score};
use vocabulary::{new_fill, vocabulary};

use crate::config::MockSiteConfig;
use crate::error::MockSiteError;
use crate::model::{Block, GenAnswer, GenAuthor, GenQuestion, Status, User};
use crate::render::Chrome;
use crate::rng::{Rng, hash_str};
use crate::site::{SiteContent, Sort};
use crate::text::{collapse_ws, relative, slugify};

/// First question id of every generated site.
const BASE_ID: u64 = 67_000_000;
/// Creation time of the first question: 2021-05-03T00:00:00Z.
const T0: i64 = 1_620_000_000;

/// Generates the site described by `config` (validated first).
pub(crate) fn generate(config: &MockSiteConfig) -> Result<SiteContent, MockSiteError> {
    config.validate()?;
    let v = vocabulary();
    let seed = config.seed;
    let users: Vec<User> = v
        .users
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let h = hash_str(seed, name);
            let reputation = 1 + (h % 250_000) / (1 + (i as u64 % 5));
            User {
                id: 10_000 + (h >> 20) % 20_000_000,
                name: name.clone(),
                slug: slugify(name).replace("question", "user"),
                reputation,
                gold: (reputation / 20_000) as u32,
                silver: (reputation / 2_000) as u32 % 150,
                bronze: (reputation / 300) as u32 % 400,
            }
        })
        .collect();
    let tags = &config.tags;
    let extra_pool: Vec<&String> = v.extra_tags.iter().filter(|t| !tags.contains(t)).collect();
    let total = config.effective_questions_per_tag() as usize * tags.len();
    let mut questions: Vec<GenQuestion> = Vec::with_capacity(total);
    for k in 0..total {
        let mut rng = Rng::derive(seed, k as u64);
        let primary = &tags[k % tags.len()];
        let id = BASE_ID + k as u64 * 100 + rng.below(20);
        let created = T0 + k as i64 * 2_400 + rng.below(2_000) as i64;
        let f = new_fill(&mut rng, v, primary);
        let template = rng.pick(&v.titles).as_str();
        let mut title = collapse_ws(&f.apply(template));
        if template.starts_with("{verb}") {
            title = capitalize(&title);
        }
        let status = if k > 0 && rng.chance(30) {
            Status::Duplicate
        } else if rng.chance(30) {
            Status::Closed
        } else {
            Status::Open
        };
        let mut qtags = vec![primary.clone()];
        if tags.len() > 1 && rng.chance(200) {
            let other = &tags
                [(k % tags.len() + 1 + rng.below(tags.len() as u64 - 1) as usize) % tags.len()];
            qtags.push(other.clone());
        }
        for _ in 0..rng.below(3) {
            if let Some(extra) = (!extra_pool.is_empty()).then(|| *rng.pick(&extra_pool))
                && !qtags.contains(extra)
            {
                qtags.push(extra.clone());
            }
        }
        if qtags.len() > 1 && rng.chance(250) {
            let last = qtags.pop().unwrap_or_default();
            qtags.insert(0, last);
        }
        let score = vote_score(&mut rng, 90);
        let author = if rng.chance(40) {
            GenAuthor::Deleted(1_000_000 + rng.below(30_000_000))
        } else {
            GenAuthor::User(rng.below(users.len() as u64) as usize)
        };
        let mut qbody = body(&mut rng, v, &f, true);
        if status == Status::Duplicate {
            let target = &questions[rng.below(k as u64) as usize];
            qbody.blocks.insert(
                0,
                Block::DuplicateNotice {
                    target_id: target.id,
                    target_slug: target.slug.clone(),
                    target_title: target.title.clone(),
                    target_answers: target.answers.len(),
                    closed: String::new(),
                },
            );
        }
        let edited = rng.chance(400).then(|| {
            (
                rng.below(users.len() as u64) as usize,
                created + rng.range(300, 86_400 * 40),
            )
        });
        let mut next_comment = 120_000_000 + k as u64 * 40;
        let qcomments = comments(&mut rng, v, &f, users.len(), created, &mut next_comment);
        let n_answers = if rng.chance(150) {
            0
        } else if rng.chance(150) {
            4 + rng.below(9)
        } else {
            1 + rng.below(4)
        };
        let mut answers: Vec<GenAnswer> = (0..n_answers)
            .map(|j| {
                let a_created = created + rng.range(60, 86_400 * 30);
                let author = if rng.chance(80) {
                    GenAuthor::CommunityWiki
                } else if rng.chance(60) {
                    GenAuthor::Deleted(1_000_000 + rng.below(30_000_000))
                } else {
                    GenAuthor::User(rng.below(users.len() as u64) as usize)
                };
                GenAnswer {
                    id: id + 21 + j * 5 + rng.below(4),
                    score: vote_score(&mut rng, 120),
                    accepted: false,
                    author,
                    created: a_created,
                    edited: rng.chance(300).then(|| {
                        (
                            rng.below(users.len() as u64) as usize,
                            a_created + rng.range(300, 86_400 * 90),
                        )
                    }),
                    body: body(&mut rng, v, &f, false),
                    comments: comments(&mut rng, v, &f, users.len(), a_created, &mut next_comment),
                }
            })
            .collect();
        if !answers.is_empty() && rng.chance(550) {
            let idx = rng.below(answers.len() as u64) as usize;
            answers[idx].accepted = true;
        }
        answers.sort_by(|a, b| b.score.cmp(&a.score).then(a.created.cmp(&b.created)));
        let modified = answers
            .iter()
            .flat_map(|a| [Some(a.created), a.edited.map(|e| e.1)])
            .chain([Some(created), edited.map(|e| e.1)])
            .flatten()
            .max()
            .unwrap_or(created);
        let views = 20
            + score.unsigned_abs() * rng.range(30, 200) as u64
            + rng.below(5_000)
            + n_answers * 40;
        questions.push(GenQuestion {
            id,
            slug: slugify(&title),
            title,
            status,
            score,
            views,
            tags: qtags,
            body: qbody,
            author,
            created,
            modified,
            edited,
            answers,
            comments: qcomments,
            bookmarks: rng.below(40) as u32,
            excerpt: OnceLock::new(),
        });
    }
    let now = questions.iter().map(|q| q.modified).max().unwrap_or(T0) + 3 * 86_400;
    // Duplicate notices state when the question was closed, relative to "now".
    for q in &mut questions {
        let closed_at = q.created + 3_600;
        for block in &mut q.body.blocks {
            if let Block::DuplicateNotice { closed, .. } = block {
                *closed = relative(closed_at, now);
            }
        }
    }
    let by_id = questions
        .iter()
        .enumerate()
        .map(|(i, q)| (q.id, i as u32))
        .collect();
    let order = |idx: &mut Vec<u32>, sort: Sort| {
        let key = |i: &u32| {
            let q = &questions[*i as usize];
            match sort {
                Sort::Votes => (std::cmp::Reverse(q.score), std::cmp::Reverse(q.id)),
                Sort::Newest => (std::cmp::Reverse(q.created), std::cmp::Reverse(q.id)),
                Sort::Active => (std::cmp::Reverse(q.modified), std::cmp::Reverse(q.id)),
                Sort::Frequent => (std::cmp::Reverse(q.views as i64), std::cmp::Reverse(q.id)),
            }
        };
        idx.sort_by_key(key);
    };
    let mut tag_members: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (i, q) in questions.iter().enumerate() {
        for t in &q.tags {
            tag_members.entry(t.clone()).or_default().push(i as u32);
        }
    }
    let sorted = |members: &Vec<u32>| -> [Vec<u32>; 4] {
        Sort::ALL.map(|s| {
            let mut m = members.clone();
            order(&mut m, s);
            m
        })
    };
    let by_tag = tag_members
        .iter()
        .map(|(t, m)| (t.clone(), sorted(m)))
        .collect();
    let all = sorted(&(0..questions.len() as u32).collect());
    let chrome = Chrome::build(seed, &questions, config);
    Ok(SiteContent {
        config: config.clone(),
        users,
        questions,
        by_id,
        by_tag,
        all,
        now,
        chrome,
    })
}
