//! Hand-built records shared by the integration tests.
#![allow(dead_code)]

use sofleet_records::{
    Answer, Author, CrawledQuestion, FailureKind, FailureRecord, Question, Stage,
};

pub fn user(name: &str, id: Option<u64>) -> Author {
    Author::User {
        display_name: name.to_owned(),
        user_id: id,
    }
}

pub fn answer(id: u64, score: i64, accepted: bool, author: Author) -> Answer {
    Answer {
        id,
        score,
        accepted,
        author,
        author_username_attr: None,
        body_text: format!("answer {id}"),
    }
}

pub fn question(id: u64, tags: &[&str], answers: Vec<Answer>) -> CrawledQuestion {
    CrawledQuestion {
        question: Question {
            page_title: format!("Question {id} - Stack Overflow"),
            og_title: Some(format!("Question {id}")),
            site_host: Some("127.0.0.1".into()),
            id,
            title: format!("Question {id}"),
            title_clean: format!("Question {id}"),
            title_status_suffix: None,
            score: id as i64 - 3,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            body_text: "body".into(),
            body_text_excluding_notices: "body".into(),
            body_html: "<p>body</p>".into(),
            author: user("asker", Some(1)),
            asked: Some("2020-01-01T00:00:00Z".into()),
            answer_count_declared: Some(answers.len() as u32),
            markup_era: sofleet_records::MarkupEra::E,
            answer_sort: Some("votes".into()),
            answers,
        },
        source_url: format!("http://127.0.0.1:8080/questions/{id}/q"),
        listing_url: Some("http://127.0.0.1:8080/questions/tagged/python?page=1".into()),
        listing_tag: Some("python".into()),
        listing_page: Some(1),
        fetched_at_ms: 1_700_000_000_000 + id as i64,
    }
}

/// The hand-built data set whose aggregates the tests compute by hand:
///
/// | q | tags | answers (score, accepted, author) | top | first |
/// |---|---|---|---|---|
/// | 1 | python;pandas | (10,acc,Zoë) (3,Bob) | Zoë 10 | Zoë |
/// | 2 | python | (5,Åsa) (5,acc,Bob) | Bob 5 (tie, accepted wins) | Åsa |
/// | 3 | rust | - | - | - |
/// | 4 | rust;python | (-1,anonymous) (2,Zoë) | Zoë 2 | anonymous |
/// | 5 | - | (-2,community wiki) | community wiki -2 | community wiki |
/// | 6 | pandas | (7,Пётр) | Пётр 7 | Пётр |
pub fn lesson_records() -> Vec<CrawledQuestion> {
    vec![
        question(
            1,
            &["python", "pandas"],
            vec![
                answer(101, 10, true, user("Zoë", Some(7))),
                answer(102, 3, false, user("Bob", Some(8))),
            ],
        ),
        question(
            2,
            &["python"],
            vec![
                answer(201, 5, false, user("Åsa", None)),
                answer(202, 5, true, user("Bob", Some(8))),
            ],
        ),
        question(3, &["rust"], vec![]),
        question(
            4,
            &["rust", "python"],
            vec![
                answer(401, -1, false, Author::Anonymous { display_name: None }),
                answer(402, 2, false, user("Zoë", Some(7))),
            ],
        ),
        question(5, &[], vec![answer(501, -2, false, Author::CommunityWiki)]),
        question(
            6,
            &["pandas"],
            vec![answer(601, 7, false, user("Пётр", Some(9)))],
        ),
    ]
}

pub fn failures() -> Vec<FailureRecord> {
    vec![
        FailureRecord {
            url: "http://127.0.0.1:8080/questions/9/x".into(),
            stage: Stage::Question,
            kind: FailureKind::NotFound,
            http_status: Some(404),
            attempts: 1,
            message: "HTTP 404 Not Found".into(),
        },
        FailureRecord {
            url: "http://127.0.0.1:8080/questions/tagged/python?page=2".into(),
            stage: Stage::Listing,
            kind: FailureKind::Timeout,
            http_status: None,
            attempts: 3,
            message: "timed out, \"after\" 3 tries,\nnext line".into(),
        },
    ]
}
