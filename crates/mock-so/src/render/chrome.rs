//! The parts of every page that do not depend on the question or listing,
//! rendered once per site from `templates/chrome/` (plus the static top bar,
//! stylesheet and script under `templates/`).

use askama::Template;

use super::render;
use crate::config::MockSiteConfig;
use crate::model::GenQuestion;
use crate::rng::Rng;

const NETWORK_SITES: [&str; 36] = [
    "Technology",
    "Culture &amp; recreation",
    "Life &amp; arts",
    "Science",
    "Professional",
    "Business",
    "Server Fault",
    "Super User",
    "Ask Ubuntu",
    "Mathematics",
    "Cross Validated",
    "Theoretical Computer Science",
    "Physics",
    "Chemistry",
    "Biology",
    "Data Science",
    "Geographic Information Systems",
    "Electrical Engineering",
    "Software Engineering",
    "Code Review",
    "Unix &amp; Linux",
    "Database Administrators",
    "Information Security",
    "Arqade",
    "Seasoned Advice",
    "Home Improvement",
    "Personal Finance &amp; Money",
    "Academia",
    "Travel",
    "English Language &amp; Usage",
    "Worldbuilding",
    "Bicycles",
    "Music: Practice &amp; Theory",
    "Photography",
    "Gardening &amp; Landscaping",
    "Mi Yodeya",
];

const HOT_TOPICS: [&str; 24] = [
    "Why does the kettle whistle louder when half full",
    "Is there a name for a proof that only works for odd n",
    "How do I stop my sourdough from collapsing overnight",
    "What happens to a satellite's orbit during a solar storm",
    "Can a contract forbid me from mentioning the contract",
    "Meaning of “to put the cart before the horse” in a spreadsheet context",
    "Are there languages without a word for “left”",
    "Why is my 12V fan spinning slowly on a 5V rail",
    "Which chess opening leads to the fewest early trades",
    "How did medieval scribes correct mistakes on vellum",
    "Is it rude to reply-all with just “thanks”",
    "What limits the top speed of a sailing boat",
    "Why do some trains tilt in curves and others don't",
    "How can I tell if an old bridge is load-rated for a van",
    "Does rounding before summing ever change the total",
    "Why do rivers meander more on flat land",
    "Can a shell script detect that it is being sourced",
    "How was pi computed before calculus",
    "Why does my bread crust go soft after an hour",
    "How many colours does a map of islands need",
    "Why does a bicycle stay upright when moving",
    "Is a tomato a berry in the botanical sense",
    "What makes a good first programming language",
    "When did “byte” come to mean eight bits",
];

/// The parts of every page that do not depend on the question or listing,
/// built once per site.
#[derive(Clone, Debug)]
pub(crate) struct Chrome {
    pub(super) head_assets: String,
    pub(super) top: &'static str,
    pub(super) sidebar_static: String,
    pub(super) footer: String,
    pub(super) bottom_scripts: String,
}

/// A responsive breakpoint of the utility classes.
struct Breakpoint {
    /// Class prefix (`sm\:`), empty for the base classes.
    prefix: &'static str,
    /// `max-width` of the media query, `None` for the base classes.
    width: Option<u32>,
}

/// Stack Overflow's utility classes (margins, paddings, sizes, colours).
#[derive(Template)]
#[template(path = "chrome/utility.css", escape = "none")]
struct UtilityCss {
    breakpoints: [Breakpoint; 4],
    /// (class, property, sign) of each spacing utility.
    props: [(&'static str, &'static str, &'static str); 22],
    sizes: [u32; 14],
    /// (name, hue, saturation) of each colour.
    colors: [(&'static str, u32, u32); 7],
    /// (shade as three digits, lightness) of each colour step.
    shades: Vec<(String, u32)>,
}

impl UtilityCss {
    fn new() -> Self {
        let props = [
            ("m", "margin"),
            ("mt", "margin-top"),
            ("mr", "margin-right"),
            ("mb", "margin-bottom"),
            ("ml", "margin-left"),
            ("mtn", "margin-top"),
            ("mln", "margin-left"),
            ("p", "padding"),
            ("pt", "padding-top"),
            ("pr", "padding-right"),
            ("pb", "padding-bottom"),
            ("pl", "padding-left"),
            ("g", "gap"),
            ("gx", "column-gap"),
            ("gy", "row-gap"),
            ("w", "width"),
            ("h", "height"),
            ("wmx", "max-width"),
            ("wmn", "min-width"),
            ("hmx", "max-height"),
            ("t", "top"),
            ("l", "left"),
        ]
        .map(|(short, prop)| (short, prop, if short.ends_with('n') { "-" } else { "" }));
        let shades = [
            25u32, 50, 75, 100, 150, 200, 225, 300, 350, 400, 500, 600, 700, 800, 900,
        ];
        UtilityCss {
            breakpoints: [
                Breakpoint {
                    prefix: "",
                    width: None,
                },
                Breakpoint {
                    prefix: "sm\\:",
                    width: Some(640),
                },
                Breakpoint {
                    prefix: "md\\:",
                    width: Some(980),
                },
                Breakpoint {
                    prefix: "lg\\:",
                    width: Some(1264),
                },
            ],
            props,
            sizes: [0, 1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128],
            colors: [
                ("black", 210, 8),
                ("orange", 27, 90),
                ("blue", 206, 100),
                ("green", 140, 40),
                ("red", 358, 68),
                ("yellow", 47, 83),
                ("powder", 205, 46),
            ],
            shades: shades
                .iter()
                .enumerate()
                .map(|(i, shade)| (format!("{shade:03}"), 97 - i as u32 * 6))
                .collect(),
        }
    }
}

/// Icons, the stylesheet and the inline script in `<head>`.
#[derive(Template)]
#[template(path = "chrome/head_assets.html", escape = "none")]
struct HeadAssets {
    site_css: &'static str,
    utility_css: String,
    scripts: &'static str,
}

/// A "Hot Network Questions" entry.
struct Hot {
    favicon: i32,
    target: i32,
    suffix: &'static str,
    site: &'static str,
    pid: u64,
    topic: &'static str,
}

/// The sidebar widgets every listing and question page shows.
#[derive(Template)]
#[template(path = "chrome/sidebar.html", escape = "none")]
struct Sidebar {
    blog: Vec<(usize, &'static str)>,
    meta: Vec<(usize, &'static str)>,
    hot: Vec<Hot>,
}

/// The site footer.
#[derive(Template)]
#[template(path = "chrome/footer.html", escape = "none")]
struct Footer {
    /// (anchor, name) of each network site.
    network_sites: Vec<(String, &'static str)>,
    year: u32,
    rev: String,
}

/// The scripts at the end of `<body>`.
#[derive(Template)]
#[template(path = "chrome/bottom_scripts.html", escape = "none")]
struct BottomScripts {
    /// (number, area, thing) of each UI string.
    strings: Vec<(u32, &'static str, &'static str)>,
}

impl Chrome {
    pub(crate) fn build(seed: u64, questions: &[GenQuestion], config: &MockSiteConfig) -> Chrome {
        let mut rng = Rng::derive(seed, u64::MAX - 7);
        let head_assets = HeadAssets {
            site_css: include_str!("../../templates/chrome/site.css"),
            utility_css: render(&UtilityCss::new(), 80_000),
            scripts: include_str!("../../templates/chrome/scripts.js"),
        };
        let sidebar = Sidebar {
            blog: (0..3)
                .map(|i| (i, HOT_TOPICS[(i * 7 + seed as usize) % HOT_TOPICS.len()]))
                .collect(),
            meta: (0..3)
                .map(|i| {
                    (
                        i,
                        HOT_TOPICS[(i * 5 + 3 + seed as usize) % HOT_TOPICS.len()],
                    )
                })
                .collect(),
            hot: (0..70)
                .map(|i| {
                    let site = NETWORK_SITES[rng.below(NETWORK_SITES.len() as u64) as usize];
                    let topic = HOT_TOPICS[rng.below(HOT_TOPICS.len() as u64) as usize];
                    let pid = 100_000 + rng.below(900_000);
                    Hot {
                        favicon: i % 40,
                        target: 1 + i % 40,
                        suffix: if i % 3 == 0 { "?" } else { " in practice?" },
                        site,
                        pid,
                        topic,
                    }
                })
                .collect(),
        };
        let footer = Footer {
            network_sites: NETWORK_SITES
                .iter()
                .map(|site| {
                    let slug = site
                        .replace("&amp;", "and")
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric())
                        .collect::<String>()
                        .to_ascii_lowercase();
                    (slug, *site)
                })
                .collect(),
            year: 2021 + (questions.len() / 13_000) as u32,
            rev: format!("{}.{}", 5 + seed % 7, 40_000 + seed % 9_999),
        };
        let areas = [
            "post", "comments", "review", "vote", "flag", "share", "edit", "tag", "user", "search",
            "notice", "modal",
        ];
        let things = [
            "title",
            "tooltip",
            "placeholder",
            "error",
            "confirm",
            "success",
            "label",
            "help",
            "empty",
            "limit",
        ];
        let bottom = BottomScripts {
            strings: (0..360u32)
                .map(|i| {
                    let area = areas[i as usize % areas.len()];
                    let thing = things[(i as usize / areas.len()) % things.len()];
                    (i, area, thing)
                })
                .collect(),
        };
        let _ = config;
        Chrome {
            head_assets: render(&head_assets, 100_000),
            top: include_str!("../../templates/chrome/top.html"),
            sidebar_static: render(&sidebar, 40_000),
            footer: render(&footer, 8_000),
            bottom_scripts: render(&bottom, 40_000),
        }
    }
}
