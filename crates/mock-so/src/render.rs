//! HTML rendering of the generated site in the newest Stack Overflow markup
//! (era E: `s-post-summary` listing rows, `data-score` on post divs,
//! `.s-prose.js-post-body` bodies), with realistic head, sidebar and script
//! padding so pages have the size of real ones.

use std::fmt::Write as _;

use crate::config::MockSiteConfig;
use crate::content::{
    Body, Comment, GenAnswer, GenAuthor, GenQuestion, SITE_HOST, SiteContent, Sort, Status, User,
};
use crate::rng::Rng;
use crate::text::{
    attr, encode_tag, esc, human_time, iso, relative, short_number, thousands, title_time,
};

const SVG_UP: &str = r#"<svg aria-hidden="true" class="svg-icon iconArrowUp" width="18" height="18" viewBox="0 0 18 18"><path d="M1 12h16L9 4z"/></svg>"#;
const SVG_DOWN: &str = r#"<svg aria-hidden="true" class="svg-icon iconArrowDown" width="18" height="18" viewBox="0 0 18 18"><path d="M1 6h16l-8 8z"/></svg>"#;
const SVG_CHECK: &str = r#"<svg aria-hidden="true" class="svg-icon iconCheckmarkLg" width="36" height="36" viewBox="0 0 36 36"><path d="m6 14 8 8L30 6v8L14 30l-8-8z"/></svg>"#;
const SVG_CHECK_SM: &str = r#"<svg aria-hidden="true" class="svg-icon iconCheckmarkSm" width="14" height="14" viewBox="0 0 14 14"><path d="M13 3.41 11.59 2 5 8.59 2.41 6 1 7.41l4 4z"/></svg>"#;
const SVG_BOOKMARK: &str = r#"<svg aria-hidden="true" class="svg-icon iconBookmarkAlt" width="18" height="18" viewBox="0 0 18 18"><path d="m9 10.6 4 2.66V3H5v10.26zM3 3c0-1.1.9-2 2-2h8a2 2 0 0 1 2 2v14l-6-4-6 4z"/></svg>"#;
const SVG_HISTORY: &str = r#"<svg aria-hidden="true" class="mln2 mr0 svg-icon iconHistory" width="19" height="18" viewBox="0 0 19 18"><path d="M3 9a8 8 0 1 1 3.73 6.77L8.2 14.3A6 6 0 1 0 5 9l3.01-.01-4 4-4-4h3zm7-4h1.01L11 9.36l3.22 2.1-.6.93L10 10z"/></svg>"#;

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
    head_assets: String,
    top: String,
    sidebar_static: String,
    footer: String,
    bottom_scripts: String,
}

fn utility_css(out: &mut String) {
    let props: [(&str, &str); 22] = [
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
    ];
    let sizes = [0u32, 1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128];
    for bp in ["", "sm\\:", "md\\:", "lg\\:"] {
        if !bp.is_empty() {
            let width = match bp {
                "sm\\:" => 640,
                "md\\:" => 980,
                _ => 1264,
            };
            let _ = write!(out, "@media screen and (max-width:{width}px){{");
        }
        for (short, prop) in props {
            for s in sizes {
                let sign = if short.ends_with('n') { "-" } else { "" };
                let _ = write!(out, ".{bp}{short}{s}{{{prop}:{sign}{s}px !important}}");
            }
        }
        if !bp.is_empty() {
            out.push('}');
        }
        out.push('\n');
    }
    let colors = [
        ("black", 210, 8),
        ("orange", 27, 90),
        ("blue", 206, 100),
        ("green", 140, 40),
        ("red", 358, 68),
        ("yellow", 47, 83),
        ("powder", 205, 46),
    ];
    let shades = [
        25u32, 50, 75, 100, 150, 200, 225, 300, 350, 400, 500, 600, 700, 800, 900,
    ];
    for (name, hue, sat) in colors {
        for (i, shade) in shades.iter().enumerate() {
            let light = 97 - i as u32 * 6;
            let _ = write!(
                out,
                ".fc-{name}-{shade:03}{{color:hsl({hue},{sat}%,{light}%) !important}}.bg-{name}-{shade:03}{{background-color:hsl({hue},{sat}%,{light}%) !important}}.bc-{name}-{shade:03}{{border-color:hsl({hue},{sat}%,{light}%) !important}}.h\\:fc-{name}-{shade:03}:hover{{color:hsl({hue},{sat}%,{light}%) !important}}"
            );
        }
        out.push('\n');
    }
}

fn network_sites_html() -> String {
    let mut out = String::new();
    for site in NETWORK_SITES {
        let slug: String = site
            .replace("&amp;", "and")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let _ = writeln!(
            out,
            "                    <li class=\"-item\"><a href=\"/sites#{slug}\" class=\"-link js-gps-track\" data-gps-track=\"footer.click({{ location: 1, link: 21 }})\">{site}</a></li>"
        );
    }
    out
}

impl Chrome {
    pub(crate) fn build(seed: u64, questions: &[GenQuestion], config: &MockSiteConfig) -> Chrome {
        let mut rng = Rng::derive(seed, u64::MAX - 7);
        let mut css = String::with_capacity(80_000);
        css.push_str(include_str!("../templates/site.css"));
        utility_css(&mut css);
        let mut head_assets = String::with_capacity(100_000);
        head_assets.push_str("    <link rel=\"shortcut icon\" href=\"/favicon.ico\">\n    <link rel=\"apple-touch-icon\" href=\"/apple-touch-icon.png\">\n    <link rel=\"search\" type=\"application/opensearchdescription+xml\" title=\"Stack Overflow\" href=\"/opensearch.xml\">\n    <meta name=\"viewport\" content=\"width=device-width, height=device-height, initial-scale=1.0, minimum-scale=1.0\">\n");
        let _ = write!(head_assets, "    <style>\n{css}\n    </style>\n");
        let _ = write!(
            head_assets,
            "    <script>\n{}\n    </script>\n",
            include_str!("../templates/scripts.js")
        );

        let top = include_str!("../templates/chrome_top.html").to_string();

        let mut sidebar = String::with_capacity(40_000);
        sidebar.push_str("<div class=\"s-sidebarwidget s-sidebarwidget__yellow s-anchors s-anchors__grayscale mb16\" data-tracker=\"cb=1\">\n<ul class=\"d-block p0 m0\">\n<div class=\"s-sidebarwidget--header s-sidebarwidget__small-bold-text fc-black-600 d:fc-black-900 bb bbw1\">The Overflow Blog</div>\n");
        for i in 0..3 {
            let topic = HOT_TOPICS[(i * 7 + seed as usize) % HOT_TOPICS.len()];
            let _ = writeln!(
                sidebar,
                "<li class=\"s-sidebarwidget--item d-flex px16\"><div class=\"flex--item1 fl-shrink0\"><svg aria-hidden=\"true\" class=\"va-text-top svg-icon iconPencilSm\" width=\"14\" height=\"14\" viewBox=\"0 0 14 14\"><path d=\"m2 10.12 6.37-6.43 1.88 1.88L3.88 12H2z\"/></svg></div><div class=\"flex--item wmn0 ow-break-word\"><a href=\"/blog/{i}\" class=\"js-gps-track\" title=\"{topic}\" data-gps-track=\"communitybulletin.click({{ priority: 1, position: {i} }})\">{topic} (blog post)</a></div></li>"
            );
        }
        sidebar.push_str("<div class=\"s-sidebarwidget--header s-sidebarwidget__small-bold-text fc-black-600 d:fc-black-900 bb bbw1\">Featured on Meta</div>\n");
        for i in 0..3 {
            let topic = HOT_TOPICS[(i * 5 + 3 + seed as usize) % HOT_TOPICS.len()];
            let _ = writeln!(
                sidebar,
                "<li class=\"s-sidebarwidget--item d-flex px16\"><div class=\"flex--item1 fl-shrink0\"><div class=\"favicon favicon-stackoverflowmeta\" title=\"Meta Stack Overflow\"></div></div><div class=\"flex--item wmn0 ow-break-word\"><a href=\"/meta/{i}\" class=\"js-gps-track\" title=\"{topic}\">Policy update: {topic}</a></div></li>"
            );
        }
        sidebar.push_str("</ul>\n</div>\n");
        sidebar.push_str("<div id=\"hot-network-questions\" class=\"module tex2jax_ignore\">\n<h4><a href=\"/hot-network-questions\" class=\"js-gps-track s-link s-link__inherit\" data-gps-track=\"posts_hot_network.click({ item_type:1, location:11 })\">Hot Network Questions</a></h4>\n<ul>\n");
        for i in 0..70 {
            let site = NETWORK_SITES[rng.below(NETWORK_SITES.len() as u64) as usize];
            let topic = HOT_TOPICS[rng.below(HOT_TOPICS.len() as u64) as usize];
            let pid = 100_000 + rng.below(900_000);
            let _ = writeln!(
                sidebar,
                "<li><div class=\"favicon favicon-site{}\" title=\"{site}\"></div><a href=\"/hot/{pid}\" class=\"js-gps-track\" data-gps-track=\"site.switch({{ item_type:11, target_site:{} }}); posts_hot_network.click({{ item_type:2, location:11 }})\">{topic}{}</a></li>",
                i % 40,
                1 + i % 40,
                if i % 3 == 0 { "?" } else { " in practice?" }
            );
        }
        sidebar.push_str("</ul>\n<a href=\"#\" class=\"show-more js-show-more js-gps-track\" data-gps-track=\"posts_hot_network.click({ item_type:12, location:11 })\">more hot questions</a>\n</div>\n");

        let year = 2021 + (questions.len() / 13_000) as u32;
        let footer = include_str!("../templates/footer.html")
            .replace("{{NETWORK_SITES}}", &network_sites_html())
            .replace("{{YEAR}}", &year.to_string())
            .replace(
                "{{REV}}",
                &format!("{}.{}", 5 + seed % 7, 40_000 + seed % 9_999),
            );

        let mut bottom = String::with_capacity(40_000);
        bottom.push_str("<script>\nStackExchange.ready(function () {\n    StackExchange.init({\n        \"locale\": \"en\",\n        \"serverTime\": 1700000000,\n        \"routeName\": \"Questions/Show\",\n        \"stackAuthUrl\": \"/auth\",\n        \"networkMetaHostname\": \"meta.stackexchange.com\",\n        \"site\": {\"name\": \"Stack Overflow\", \"description\": \"Q&A for professional and enthusiast programmers\", \"isNoticesTabEnabled\": true, \"enableNewTagCreationWarning\": true, \"insertSpaceAfterNameTabCompletion\": false, \"id\": 1, \"cookieDomain\": \".stackoverflow.com\", \"childUrl\": \"/meta\", \"negativeVoteScoreFloor\": null, \"enableSocialMediaInSharePopup\": true, \"protocol\": \"https\"},\n        \"strings\": {\n");
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
        for i in 0..360u32 {
            let area = areas[i as usize % areas.len()];
            let thing = things[(i as usize / areas.len()) % things.len()];
            let _ = writeln!(
                bottom,
                "            \"{area}.{thing}.{i}\": \"The {thing} shown for {area} action number {i}; keep it short and friendly.\","
            );
        }
        bottom.push_str("            \"end\": \"\"\n        },\n        \"userProfile\": {\"openGraphAPIKey\": \"\"},\n        \"userMessaging\": {\"showNewFeatureNotice\": true},\n        \"tags\": {},\n        \"comments\": {},\n        \"snippets\": {\"enabled\": true},\n        \"slack\": {\"sidebarAdDismissCookie\": \"slack-sidebar-ad\", \"sidebarAdDismissCookieExpirationDays\": 14}\n    }, {\n        \"userProfile\": {\"testUserCards\": false},\n        \"questions\": {\"enableQuestionTitleLengthLiveWarning\": true, \"maxTitleSize\": 150}\n    });\n});\n</script>\n");
        let _ = config;

        Chrome {
            head_assets,
            top,
            sidebar_static: sidebar,
            footer,
            bottom_scripts: bottom,
        }
    }
}

fn user_url(u: &User) -> String {
    format!("/users/{}/{}", u.id, u.slug)
}

fn flair(out: &mut String, u: &User) {
    let _ = write!(
        out,
        "<div class=\"-flair\">\n            <span class=\"reputation-score\" title=\"reputation score {}\" dir=\"ltr\">{}</span>",
        thousands(u.reputation),
        short_number(u.reputation)
    );
    for (n, class, word) in [
        (u.gold, "badge1", "gold"),
        (u.silver, "badge2", "silver"),
        (u.bronze, "badge3", "bronze"),
    ] {
        if n > 0 {
            let _ = write!(
                out,
                "<span title=\"{n} {word} badges\" aria-hidden=\"true\"><span class=\"{class}\"></span><span class=\"badgecount\">{n}</span></span><span class=\"v-visible-sr\">{n} {word} badges</span>"
            );
        }
    }
    out.push_str("\n        </div>\n");
}

fn gravatar(out: &mut String, u: &User) {
    let _ = write!(
        out,
        "    <div class=\"user-gravatar32\">\n        <a href=\"{}\"><div class=\"gravatar-wrapper-32\"><img src=\"/avatar/{:016x}?s=64&amp;d=identicon&amp;r=PG\" alt=\"{}&#39;s user avatar\" width=\"32\" height=\"32\" class=\"bar-sm\"></div></a>\n    </div>\n",
        user_url(u),
        u.id.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        attr(&u.name)
    );
}

impl SiteContent {
    fn signature_edited(
        &self,
        out: &mut String,
        post_id: u64,
        post_type: u8,
        editor: usize,
        owner: &GenAuthor,
        at: i64,
    ) {
        let _ = write!(
            out,
            "            <div class=\"post-signature flex--item fl0\">\n<div class=\"user-info user-hover\">\n    <div class=\"d-flex \">\n        <div class=\"user-action-time fl-grow1\">\n            <a href=\"/posts/{post_id}/revisions\" title=\"show all edits to this post\" class=\"js-gps-track\" data-gps-track=\"post.click({{ item: 4, priv: 0, post_type: {post_type} }})\">edited <span title='{}' class='relativetime'>{}</span></a>\n        </div>\n    </div>\n",
            title_time(at),
            human_time(at)
        );
        if *owner == GenAuthor::User(editor) {
            out.push_str("    <div class=\"user-gravatar32\">\n    </div>\n    <div class=\"user-details\">\n        <div class=\"-flair\">\n        </div>\n    </div>\n");
        } else {
            let u = &self.users[editor];
            gravatar(out, u);
            let _ = write!(
                out,
                "    <div class=\"user-details\">\n        <a href=\"{}\" dir=\"auto\">{}</a>\n        ",
                user_url(u),
                esc(&u.name)
            );
            flair(out, u);
            out.push_str("    </div>\n");
        }
        out.push_str("</div>\n            </div>\n");
    }

    fn signature_owner(
        &self,
        out: &mut String,
        post_id: u64,
        action: &str,
        author: &GenAuthor,
        at: i64,
        contributors: usize,
    ) {
        let owner_class = if action == "asked" { " owner" } else { "" };
        match author {
            GenAuthor::CommunityWiki => {
                let u = &self.users[(post_id % self.users.len() as u64) as usize];
                let _ = write!(
                    out,
                    "            <div class=\"post-signature{owner_class} flex--item fl0\">\n                <div class=\"user-info\">\n    <div class=\"user-details\">\n        <span class=\"community-wiki\" title=\"This post is community owned as of {}. Votes do not generate reputation, and it can be edited by users with 100 rep\">\n            community wiki\n        </span>\n    </div><br>\n    <div class=\"user-details\">\n        <a id=\"history-{post_id}\" href=\"/posts/{post_id}/revisions\" title=\"show revision history for this post\">\n        {} revs, {contributors} users {}%<br><a href=\"{}\">{}</a>\n        </a>\n    </div>\n</div>\n            </div>\n",
                    human_time(at),
                    contributors + 2,
                    30 + post_id % 60,
                    user_url(u),
                    esc(&u.name)
                );
            }
            GenAuthor::User(ix) => {
                let u = &self.users[*ix];
                let _ = write!(
                    out,
                    "            <div class=\"post-signature{owner_class} flex--item fl0\">\n                <div class=\"user-info user-hover\">\n    <div class=\"d-flex \">\n        <div class=\"user-action-time fl-grow1\">\n            {action} <span title='{}' class='relativetime'>{}</span>\n        </div>\n    </div>\n",
                    title_time(at),
                    human_time(at)
                );
                gravatar(out, u);
                let _ = write!(
                    out,
                    "    <div class=\"user-details\" itemprop=\"author\" itemscope itemtype=\"http://schema.org/Person\">\n        <a href=\"{}\" itemprop=\"url\" dir=\"auto\">{}</a><span class=\"d-none\" itemprop=\"name\">{}</span>\n        ",
                    user_url(u),
                    esc(&u.name),
                    esc(&u.name)
                );
                flair(out, u);
                out.push_str("    </div>\n</div>\n            </div>\n");
            }
            GenAuthor::Deleted(n) => {
                let _ = write!(
                    out,
                    "            <div class=\"post-signature{owner_class} flex--item fl0\">\n                <div class=\"user-info \">\n    <div class=\"d-flex \">\n        <div class=\"user-action-time fl-grow1\">\n            {action} <span title='{}' class='relativetime'>{}</span>\n        </div>\n    </div>\n    <div class=\"user-gravatar32\">\n        <span class=\"anonymous-gravatar\"></span>\n    </div>\n    <div class=\"user-details\" itemprop=\"author\" itemscope itemtype=\"http://schema.org/Person\">\n        user{n}<span class=\"d-none\" itemprop=\"name\">user{n}</span>\n        <div class=\"-flair\">\n        </div>\n    </div>\n</div>\n            </div>\n",
                    title_time(at),
                    human_time(at)
                );
            }
        }
    }

    fn comments_html(&self, out: &mut String, post_id: u64, comments: &[Comment]) {
        let _ = write!(
            out,
            "<span class=\"d-none\" itemprop=\"commentCount\">{}</span>\n    <div class=\"post-layout--right js-post-comments-component\">\n        <div id=\"comments-{post_id}\" class=\"comments js-comments-container bt bc-black-200 mt12 {}\" data-post-id=\"{post_id}\" data-min-length=\"15\">\n            <ul class=\"comments-list js-comments-list\" data-remaining-comments-count=\"0\" data-canpost=\"false\" data-cansee=\"true\" data-comments-unavailable=\"false\" data-addlink-disabled=\"true\">\n",
            comments.len(),
            if comments.is_empty() { "dno" } else { "" }
        );
        for c in comments {
            let u = &self.users[c.user];
            let score = if c.score > 0 {
                format!(
                    "<span title=\"number of &#39;useful comment&#39; votes received\" class=\"cool\">{}</span>",
                    c.score
                )
            } else {
                String::new()
            };
            let _ = write!(
                out,
                "                <li id=\"comment-{}\" class=\"comment js-comment \" data-comment-id=\"{}\" data-comment-owner-id=\"{}\" data-comment-score=\"{}\">\n        <div class=\"js-comment-actions comment-actions\">\n            <div class=\"comment-score js-comment-edit-hide\">\n                {score}\n            </div>\n        </div>\n        <div class=\"comment-text js-comment-text-and-form\">\n            <div class=\"comment-body js-comment-edit-hide\">\n                <span class=\"comment-copy\">{}</span>\n                <div class=\"d-inline-flex ai-center\">\n&ndash;&nbsp;<a href=\"{}\" title=\"{} reputation\" class=\"comment-user\">{}</a>\n                </div>\n                <span class=\"comment-date\" dir=\"ltr\"><span title=\"{}, License: CC BY-SA 4.0\" class=\"relativetime-clean\">{}</span></span>\n            </div>\n        </div>\n    </li>\n",
                c.id,
                c.id,
                u.id,
                c.score,
                esc(&c.text),
                user_url(u),
                thousands(u.reputation),
                esc(&u.name),
                title_time(c.at),
                human_time(c.at)
            );
        }
        let _ = write!(
            out,
            "            </ul>\n        </div>\n        <div id=\"comments-link-{post_id}\" data-rep=\"50\" data-anon=\"true\">\n            <a class=\"js-add-link comments-link disabled-link\" title=\"Use comments to ask for more information or suggest improvements. Avoid answering questions in comments.\" href=\"#\" role=\"button\">Add a comment</a>\n            <span class=\"js-link-separator dno\">&nbsp;|&nbsp;</span>\n            <a class=\"js-show-link comments-link dno\" title=\"Expand to show all comments on this post\" href=\"#\" onclick=\"\" role=\"button\"></a>\n        </div>\n    </div>\n"
        );
    }

    fn votecell(
        &self,
        out: &mut String,
        post_id: u64,
        score: i64,
        is_question: bool,
        accepted: bool,
        bookmarks: u32,
    ) {
        let (up, down) = if is_question {
            (
                "This question shows research effort; it is useful and clear",
                "This question does not show any research effort; it is unclear or not useful",
            )
        } else {
            ("This answer is useful", "This answer is not useful")
        };
        let _ = write!(
            out,
            "        <div class=\"votecell post-layout--left\">\n<div class=\"js-voting-container d-flex jc-center fd-column ai-center gs4 fc-black-300\" data-post-id=\"{post_id}\" data-referrer=\"None\">\n        <button class=\"js-vote-up-btn flex--item s-btn s-btn__muted s-btn__outlined bar-pill bc-black-225 f:bc-theme-secondary-400 f:bg-theme-secondary-400 f:fc-black-050 h:bg-theme-primary-200\" id=\"upvote-btn-{post_id}\" data-controller=\"s-tooltip\" data-s-tooltip-placement=\"right\" title=\"{up}\" aria-pressed=\"false\" aria-label=\"Up vote\" data-selected-classes=\"fc-theme-primary bc-theme-primary bg-theme-primary-100\" data-unselected-classes=\"bc-black-225 f:bc-theme-secondary-400 f:bg-theme-secondary-400 f:fc-black-050 h:bg-theme-primary-200\">\n            {SVG_UP}\n        </button>\n        <input type=\"hidden\" id=\"voteUpHash\" value=\"{:x}\" />\n        <div class=\"js-vote-count flex--item d-flex fd-column ai-center fc-theme-body-font fw-bold fs-subheading py4\" itemprop=\"upvoteCount\" data-value=\"{score}\">\n{score}        </div>\n        <button class=\"js-vote-down-btn flex--item mb8 s-btn s-btn__muted s-btn__outlined bar-pill bc-black-225 f:bc-theme-secondary-400 f:bg-theme-secondary-400 f:fc-black-050 h:bg-theme-primary-200\" id=\"downvote-btn-{post_id}\" data-controller=\"s-tooltip\" data-s-tooltip-placement=\"right\" title=\"{down}\" aria-pressed=\"false\" aria-label=\"Down vote\" data-selected-classes=\"fc-theme-primary bc-theme-primary bg-theme-primary-100\" data-unselected-classes=\"bc-black-225 f:bc-theme-secondary-400 f:bg-theme-secondary-400 f:fc-black-050 h:bg-theme-primary-200\">\n            {SVG_DOWN}\n        </button>\n",
            post_id.wrapping_mul(0x2545_F491_4F6C_DD1D)
        );
        if !is_question {
            let _ = write!(
                out,
                "            <div class=\"js-accepted-answer-indicator flex--item fc-green-400 py6 mtn8{}\" data-s-tooltip-placement=\"right\" title=\"Loading when this answer was accepted&#x2026;\" tabindex=\"0\" role=\"note\" aria-label=\"Accepted\">\n                <div class=\"ta-center\">\n                    {SVG_CHECK}\n                </div>\n            </div>\n",
                if accepted { "" } else { " d-none" }
            );
        }
        let _ = write!(
            out,
            "        <button class=\"js-saves-btn s-btn s-btn__unset c-pointer py4\" type=\"button\" id=\"saves-btn-{post_id}\" data-controller=\"s-tooltip\" data-s-tooltip-placement=\"right\" data-s-popover-placement=\"\" title=\"Save this post.\" aria-pressed=\"false\" data-post-id=\"{post_id}\" data-post-type-id=\"{}\" data-user-privilege-for-post-click=\"0\" aria-controls=\"\" data-s-popover-auto-show=\"false\">\n            {SVG_BOOKMARK}\n        </button>\n        <div class=\"js-bookmark-count d-none\" data-value=\"{bookmarks}\">{bookmarks}</div>\n        <a href=\"/posts/{post_id}/timeline\" class=\"js-post-issue flex--item s-btn s-btn__unset c-pointer py6 mx-auto\" data-shortcut=\"T\" data-ks-title=\"timeline\" data-controller=\"s-tooltip\" data-s-tooltip-placement=\"right\" title=\"Show activity on this post.\" aria-label=\"Timeline\">{SVG_HISTORY}</a>\n</div>\n        </div>\n",
            if is_question { 1 } else { 2 }
        );
    }

    fn post_menu(&self, out: &mut String, post_id: u64, is_question: bool) {
        let (what, t) = if is_question {
            ("question", 1)
        } else {
            ("answer", 2)
        };
        let _ = write!(
            out,
            "<div class=\"js-post-menu pt2\" data-post-id=\"{post_id}\" data-post-type-id=\"{t}\">\n    <div class=\"d-flex gs8 s-anchors s-anchors__muted fw-wrap\">\n        <div class=\"flex--item\">\n            <a href=\"/{}/{post_id}\" rel=\"nofollow\" itemprop=\"url\" class=\"js-share-link js-gps-track\" title=\"Short permalink to this {what}\" data-gps-track=\"post.click({{ item: 2, priv: 0, post_type: {t} }})\" data-controller=\"se-share-sheet\" data-se-share-sheet-title=\"Share a link to this {what}\" data-se-share-sheet-subtitle=\"\" data-se-share-sheet-post-type=\"{what}\" data-se-share-sheet-social=\"facebook twitter \" data-se-share-sheet-location=\"{t}\" data-se-share-sheet-license-url=\"https%3a%2f%2fcreativecommons.org%2flicenses%2fby-sa%2f4.0%2f\" data-se-share-sheet-license-name=\"CC BY-SA 4.0\" data-s-popover-placement=\"bottom-start\">Share</a>\n        </div>\n        <div class=\"flex--item\">\n            <a href=\"/posts/{post_id}/edit\" class=\"js-suggest-edit-post js-gps-track\" data-gps-track=\"post.click({{ item: 6, priv: 0, post_type: {t} }})\" title=\"\">Improve this {what}</a>\n        </div>\n        <div class=\"flex--item\">\n            <button type=\"button\" id=\"btnFollowPost-{post_id}\" class=\"s-btn s-btn__link js-follow-post js-follow-{what} js-gps-track\" data-gps-track=\"post.click({{ item: 14, priv: 0, post_type: {t} }})\" data-controller=\"s-tooltip \" data-s-tooltip-placement=\"bottom\" data-s-popover-placement=\"bottom\" aria-controls=\"\" title=\"Follow this {what} to receive notifications\">\n                Follow\n            </button>\n        </div>\n    </div>\n    <div class=\"js-menu-popup-container\"></div>\n</div>\n",
            if is_question { "q" } else { "a" }
        );
    }

    fn taglist(&self, out: &mut String, tags: &[String]) {
        out.push_str("        <div class=\"mt24 mb12\">\n            <div class=\"post-taglist d-flex gs4 gsy fd-column\">\n                <div class=\"d-flex ps-relative fw-wrap\">\n                    <ul class='ml0 list-ls-none js-post-tag-list-wrapper d-inline'>");
        for t in tags {
            let _ = write!(
                out,
                "<li class='d-inline mr4 js-post-tag-list-item'><a href=\"/questions/tagged/{}\" class=\"s-tag post-tag\" title=\"show questions tagged &#39;{}&#39;\" aria-label=\"show questions tagged &#39;{}&#39;\" rel=\"tag\" aria-labelledby=\"tag-{}-tooltip-container\" data-tag-menu-origin=\"Unknown\">{}</a></li>",
                encode_tag(t),
                attr(t),
                attr(t),
                attr(t),
                esc(t)
            );
        }
        out.push_str("</ul>\n                </div>\n            </div>\n        </div>\n");
    }

    fn head(
        &self,
        out: &mut String,
        title: &str,
        canonical: &str,
        og: Option<(&str, &str)>,
        body_class: &str,
    ) {
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html class=\"html__responsive html__unpinned-leftnav\" lang=\"en\">\n<head>\n    <title>{}</title>\n",
            esc(title)
        );
        out.push_str(&self.chrome.head_assets);
        let _ = writeln!(
            out,
            "    <link rel=\"canonical\" href=\"https://{SITE_HOST}{}\" />",
            attr(canonical)
        );
        if let Some((og_title, description)) = og {
            let _ = write!(
                out,
                "    <meta property=\"og:type\" content= \"website\" />\n    <meta property=\"og:url\" content=\"https://{SITE_HOST}{}\"/>\n    <meta property=\"og:site_name\" content=\"Stack Overflow\" />\n    <meta name=\"twitter:card\" content=\"summary\"/>\n    <meta name=\"twitter:domain\" content=\"{SITE_HOST}\"/>\n    <meta name=\"twitter:title\" property=\"og:title\" itemprop=\"name\" content=\"{}\" />\n    <meta name=\"twitter:description\" property=\"og:description\" itemprop=\"description\" content=\"{}\" />\n",
                attr(canonical),
                attr(og_title),
                attr(description)
            );
        }
        let _ = write!(
            out,
            "</head>\n<body class=\"{body_class} unified-theme\">\n    <div id=\"notify-container\"></div>\n    <div id=\"custom-header\"></div>\n"
        );
        out.push_str(&self.chrome.top);
    }

    fn tail(&self, out: &mut String) {
        // Closes the `div.container` the top chrome opened.
        out.push_str("</div>\n");
        out.push_str(&self.chrome.footer);
        out.push_str(&self.chrome.bottom_scripts);
        out.push_str("</body>\n</html>\n");
    }

    fn answer_html(
        &self,
        out: &mut String,
        q: &GenQuestion,
        a: &GenAnswer,
        position: usize,
        highest: bool,
    ) {
        let accepted_highest = q.answers.first().is_some_and(|f| f.accepted);
        let _ = write!(
            out,
            "<a name=\"{}\"></a>\n<div id=\"answer-{}\" class=\"answer js-answer{}\" data-answerid=\"{}\" data-parentid=\"{}\" data-score=\"{}\" data-position-on-page=\"{position}\" data-highest-scored=\"{}\" data-question-has-accepted-highest-score=\"{}\" itemprop=\"{}\" itemscope itemtype=\"https://schema.org/Answer\">\n    <div class=\"post-layout\">\n",
            a.id,
            a.id,
            if a.accepted {
                " accepted-answer js-accepted-answer"
            } else {
                ""
            },
            a.id,
            q.id,
            a.score,
            u8::from(highest),
            u8::from(accepted_highest),
            if a.accepted {
                "acceptedAnswer"
            } else {
                "suggestedAnswer"
            }
        );
        self.votecell(out, a.id, a.score, false, a.accepted, 0);
        out.push_str("<div class=\"answercell post-layout--right\">\n    <div class=\"s-prose js-post-body\" itemprop=\"text\">");
        out.push_str(&a.body.html());
        let _ = write!(
            out,
            "</div>\n    <div class=\"mt24\">\n        <div class=\"d-flex fw-wrap ai-start jc-end gs8 gsy\">\n            <time itemprop=\"dateCreated\" datetime=\"{}\"></time>\n            <div class=\"flex--item mr16\" style=\"flex: 1 1 100px;\">\n",
            iso(a.created)
        );
        self.post_menu(out, a.id, false);
        out.push_str("            </div>\n");
        if let Some((editor, at)) = a.edited {
            self.signature_edited(out, a.id, 2, editor, &a.author, at);
        }
        self.signature_owner(
            out,
            a.id,
            "answered",
            &a.author,
            a.created,
            2 + (a.id % 4) as usize,
        );
        out.push_str("        </div>\n    </div>\n</div>\n    </div>\n");
        self.comments_html(out, a.id, &a.comments);
        out.push_str("</div>\n\n");
    }

    /// Renders a question page (newest markup, 150+ KB), `None` for an
    /// unknown id.
    pub fn render_question_page(&self, id: u64) -> Option<String> {
        let q = self.question(id)?;
        let mut out = String::with_capacity(220_000);
        let excerpt = excerpt(&q.body, 200);
        let title = format!("{} - {} - Stack Overflow", q.tags[0], q.title);
        let path = q.path();
        self.head(
            &mut out,
            &title,
            &path,
            Some((&q.title, &excerpt)),
            "question-page",
        );
        let _ = write!(
            out,
            "<div id=\"content\" class=\"snippet-hidden\">\n<div itemprop=\"mainEntity\" itemscope itemtype=\"https://schema.org/Question\">\n    <link itemprop=\"image\" href=\"/apple-touch-icon.png\">\n    <div class=\"inner-content clearfix\">\n            <div id=\"question-header\" class=\"d-flex sm:fd-column\">\n                        <h1 itemprop=\"name\" class=\"fs-headline1 ow-anywhere mb8 flex--item fl1\"><a href=\"{}\" class=\"question-hyperlink\">{}</a></h1>\n                <div class=\"ml12 aside-cta flex--item sm:ml0 sm:mb12 sm:order-first d-flex jc-end\">\n                        <div class=\"ml12 aside-cta flex--item print:d-none\">\n                                <a href=\"/questions/ask\" class=\"ws-nowrap s-btn s-btn__filled\">\n        Ask Question\n    </a>\n                        </div>\n                </div>\n            </div>\n            <div class=\"d-flex fw-wrap pb8 mb16 bb bc-black-200\">\n                    <div class=\"flex--item ws-nowrap mr16 mb8\" title=\"{}\">\n                        <span class=\"fc-black-400 mr2\">Asked</span>\n                        <time itemprop=\"dateCreated\" datetime=\"{}\">{}</time>\n                    </div>\n                    <div class=\"flex--item ws-nowrap mr16 mb8\">\n                        <span class=\"fc-black-400 mr2\">Modified</span>\n                        <a href=\"?lastactivity\" class=\"s-link s-link__inherit\" title=\"{}\">{}</a>\n                    </div>\n                    <div class=\"flex--item ws-nowrap mb8\" title=\"Viewed {} times\">\n                        <span class=\"fc-black-400 mr2\">Viewed</span>\n                        {} times\n                    </div>\n            </div>\n            <div id=\"mainbar\" role=\"main\" aria-label=\"question and answers\">\n",
            attr(&path),
            esc(&q.display_title()),
            title_time(q.created),
            iso(q.created),
            relative(q.created, self.now),
            title_time(q.modified),
            relative(q.modified, self.now),
            thousands(q.views),
            short_number(q.views)
        );
        let author_rep = match q.author {
            GenAuthor::User(u) => self.users[u].reputation,
            _ => 1,
        };
        let _ = write!(
            out,
            "<div class=\"question js-question\" data-questionid=\"{}\" data-position-on-page=\"0\" data-score=\"{}\" data-author-reputation=\"{author_rep}\"  id=\"question\">\n    <style>\n    </style>\n<div class=\"js-zone-container zone-container-main\">\n    <div id=\"dfp-tlb\" class=\"everyonelovesstackoverflow everyoneloves__top-leaderboard everyoneloves__leaderboard\"></div>\n    <div class=\"js-report-ad-button-container \" style=\"width: 728px\"></div>\n</div>\n    <div class=\"post-layout \">\n",
            q.id, q.score
        );
        self.votecell(&mut out, q.id, q.score, true, false, q.bookmarks);
        out.push_str("<div class=\"postcell post-layout--right\">\n    <div class=\"s-prose js-post-body\" itemprop=\"text\">");
        out.push_str(&q.body.html());
        out.push_str("</div>\n");
        if q.status == Status::Closed {
            let _ = write!(
                out,
                "    <aside class=\"s-notice s-notice__info post-notice js-post-notice mb16\" role=\"status\">\n        <div class=\"d-flex fd-column fw-nowrap\">\n            <div class=\"d-flex fw-nowrap\">\n                <div class=\"flex--item mr8\"></div>\n                <div class=\"flex--item wmn0 fl1 lh-lg\">\n                    <div class=\"flex--item fl1 lh-lg\">\n                        <div>\n                            <b>Closed.</b> This question needs <a href=\"/help/closed-questions\">details or clarity</a>. It is not currently accepting answers.\n                        </div>\n                    </div>\n                </div>\n            </div>\n            <div class=\"flex--item mb0 mt8\">Closed <span title=\"{}\" class=\"relativetime\">{}</span>.</div>\n        </div>\n    </aside>\n",
                title_time(q.created + 7_200),
                relative(q.created + 7_200, self.now)
            );
        }
        self.taglist(&mut out, &q.tags);
        out.push_str("    <div class=\"mb0 \">\n        <div class=\"mt16 d-flex gs8 gsy fw-wrap jc-end ai-start pt4 mb16\">\n            <div class=\"flex--item mr16 fl1 w96\">\n");
        self.post_menu(&mut out, q.id, true);
        out.push_str("            </div>\n");
        if let Some((editor, at)) = q.edited {
            self.signature_edited(&mut out, q.id, 1, editor, &q.author, at);
        }
        self.signature_owner(&mut out, q.id, "asked", &q.author, q.created, 1);
        out.push_str("        </div>\n    </div>\n</div>\n    </div>\n");
        self.comments_html(&mut out, q.id, &q.comments);
        out.push_str("</div>\n\n<div class=\"js-zone-container zone-container-responsive\">\n    <div id=\"dfp-isb\" class=\"everyonelovesstackoverflow everyoneloves__inline-sidebar mx-auto\"></div>\n    <div class=\"js-report-ad-button-container mx-auto\" style=\"width: 300px\"></div>\n</div>\n");
        let n = q.answers.len();
        let _ = write!(
            out,
            "                <div id=\"answers\">\n                    <a name=\"tab-top\"></a>\n                    <div id=\"answers-header\">\n                        <div class=\"answers-subheader d-flex ai-center mb8\">\n                            <div class=\"flex--item fl1\">\n                                <h2 class=\"mb0\" data-answercount=\"{n}\">\n                                        {n} Answer{}\n                                    <span style=\"display:none;\" itemprop=\"answerCount\">{n}</span>\n                                </h2>\n                            </div>\n                            <div class=\"flex--item\">\n<div class=\"d-flex g4 gsx ai-center sm:fd-column sm:ai-start\">\n    <div class=\"d-flex fd-column ai-end sm:ai-start\">\n        <label class=\"flex--item fs-caption\" for=\"answer-sort-dropdown-select-menu\">\n            Sorted by:\n        </label>\n        <a class=\"js-sort-preference-change s-link flex--item fs-fine d-none\" data-value=\"ScoreDesc\" href=\"{}?answertab=scoredesc#tab-top\">\n            Reset to default\n        </a>\n    </div>\n    <div class=\"flex--item s-select\">\n        <select id=\"answer-sort-dropdown-select-menu\">\n                    <option\n                        value=scoredesc\n                        selected=selected\n                    >\n                        Highest score (default)\n                    </option>\n                    <option\n                        value=trending\n                    >\n                        Trending (recent votes count more)\n                    </option>\n                    <option\n                        value=modifieddesc\n                    >\n                        Date modified (newest first)\n                    </option>\n                    <option\n                        value=createdasc\n                    >\n                        Date created (oldest first)\n                    </option>\n        </select>\n    </div>\n</div>\n                            </div>\n                        </div>\n                    </div>\n",
            if n == 1 { "" } else { "s" },
            attr(&path)
        );
        for (i, a) in q.answers.iter().enumerate() {
            self.answer_html(&mut out, q, a, i + 1, i == 0);
        }
        out.push_str("                    <h2 class=\"bottom-notice fs-body2 fw-normal\" data-loc=\"1\">\n                        Not the answer you're looking for? Browse other questions tagged ");
        for t in &q.tags {
            let _ = write!(
                out,
                "<a href=\"/questions/tagged/{}\" class=\"s-tag post-tag\" title=\"show questions tagged &#39;{}&#39;\" rel=\"tag\">{}</a> ",
                encode_tag(t),
                attr(t),
                esc(t)
            );
        }
        out.push_str("or <a href=\"/questions/ask\">ask your own question</a>.\n                    </h2>\n                </div>\n            </div>\n");
        // Sidebar: static widgets plus "Related" questions from the same tag.
        out.push_str("            <div id=\"sidebar\" class=\"show-votes\" role=\"complementary\" aria-label=\"sidebar\">\n");
        out.push_str(&self.chrome.sidebar_static);
        out.push_str("<div class=\"module sidebar-related\">\n    <h4 id=\"h-related\">Related</h4>\n    <div class=\"related js-gps-related-questions\" data-tracker=\"rq=1\">\n");
        if let Some(order) = self.order(Some(&q.tags[0]), Sort::Votes) {
            for &ix in order
                .iter()
                .filter(|&&ix| self.questions[ix as usize].id != q.id)
                .take(10)
            {
                let r = &self.questions[ix as usize];
                let _ = write!(
                    out,
                    "        <div class=\"spacer js-gps-track\" data-gps-track=\"sidebar.related.click({{ position: 0, target_post_id: {}, source_post_id: {} }})\">\n            <a href=\"/q/{}\" title=\"Question score (highest is best)\">\n                <div class=\"answer-votes{} default\">{}</div>\n            </a>\n            <a href=\"{}\" class=\"question-hyperlink\">{}</a>\n        </div>\n",
                    r.id,
                    q.id,
                    r.id,
                    if r.has_accepted() {
                        " answered-accepted"
                    } else {
                        ""
                    },
                    r.score,
                    attr(&r.path()),
                    esc(&r.display_title())
                );
            }
        }
        out.push_str(
            "    </div>\n</div>\n            </div>\n        </div>\n    </div>\n</div>\n",
        );
        self.tail(&mut out);
        Some(out)
    }

    fn listing_row(&self, out: &mut String, q: &GenQuestion, position: usize) {
        let n = q.answers.len();
        let _ = write!(
            out,
            "<div class=\"bb bc-black-200\" itemprop=\"itemListElement\" itemscope=\"\" itemtype=\"https://schema.org/ListItem\">\n<meta content=\"{position}\" itemprop=\"position\"/>\n<div class=\"s-post-summary js-post-summary\" data-post-id=\"{}\" data-post-type-id=\"1\" id=\"question-summary-{}\" itemprop=\"item\" itemscope=\"\" itemtype=\"https://schema.org/Question\">\n<div class=\"s-post-summary--stats js-post-summary-stats\">\n<div class=\"s-post-summary--stats-item s-post-summary--stats-item__emphasized\" title=\"Score of {}\">\n<span class=\"s-post-summary--stats-item-number\" itemprop=\"upvoteCount\">\n                {}\n            </span>\n<span class=\"s-post-summary--stats-item-unit\">vote{}</span>\n</div>\n",
            q.id,
            q.id,
            q.score,
            q.score,
            if q.score.abs() == 1 { "" } else { "s" }
        );
        let (class, title, icon) = if q.has_accepted() {
            (
                " has-answers has-accepted-answer",
                "one of the answers was accepted as the correct answer".to_string(),
                SVG_CHECK_SM,
            )
        } else if n > 0 {
            (
                " has-answers",
                format!("{n} answer{}", if n == 1 { "" } else { "s" }),
                "",
            )
        } else {
            ("", "0 answers".to_string(), "")
        };
        let _ = write!(
            out,
            "<div class=\"s-post-summary--stats-item{class}\" title=\"{title}\">\n{icon}<span class=\"s-post-summary--stats-item-number\" itemprop=\"answerCount\">\n                {n}\n            </span>\n<span class=\"s-post-summary--stats-item-unit\">answer{}</span>\n</div>\n<div class=\"s-post-summary--stats-item{}\" title=\"{} view{}\">\n<span class=\"s-post-summary--stats-item-number\">\n                {}\n            </span>\n<span class=\"s-post-summary--stats-item-unit\">view{}</span>\n</div>\n<meta content=\"{}\" itemprop=\"dateCreated\"/>\n</div>\n",
            if n == 1 { "" } else { "s" },
            if q.views >= 10_000 {
                " is-hot"
            } else if q.views >= 1_000 {
                " is-warm"
            } else {
                ""
            },
            thousands(q.views),
            if q.views == 1 { "" } else { "s" },
            short_number(q.views),
            if q.views == 1 { "" } else { "s" },
            title_time(q.created)
        );
        let tag_classes: String = q
            .tags
            .iter()
            .map(|t| format!(" t-{}", attr(&encode_tag(t))))
            .collect();
        let _ = write!(
            out,
            "<div class=\"s-post-summary--content\">\n<h3 class=\"s-post-summary--content-title\">\n<a class=\"s-link\" href=\"{}\" itemprop=\"url\"><span itemprop=\"name\">{}</span></a>\n</h3>\n<div class=\"s-post-summary--content-excerpt\" itemprop=\"text\">\n                    {}\n                </div>\n<div class=\"s-post-summary--meta\">\n<div class=\"s-post-summary--meta-tags d-inline-block tags js-tags{tag_classes}\">\n<ul class=\"ml0 list-ls-none js-post-tag-list-wrapper d-inline\">",
            attr(&q.path()),
            esc(&q.display_title()),
            esc(q.excerpt.get_or_init(|| excerpt(&q.body, 180)))
        );
        for t in &q.tags {
            let _ = write!(
                out,
                "<li class=\"d-inline mr4 js-post-tag-list-item\"><a aria-label=\"show questions tagged &#39;{}&#39;\" aria-labelledby=\"tag-{}-tooltip-container\" class=\"s-tag post-tag flex--item mt0 js-tagname-{}\" data-tag-menu-origin=\"Unknown\" href=\"/questions/tagged/{}\" itemprop=\"keywords\" rel=\"tag\" title=\"show questions tagged &#39;{}&#39;\">{}</a></li>",
                attr(t),
                attr(t),
                attr(t),
                encode_tag(t),
                attr(t),
                esc(t)
            );
        }
        out.push_str("</ul>\n</div>\n<div aria-live=\"polite\" class=\"s-user-card s-user-card__minimal\">\n");
        match q.author {
            GenAuthor::User(ix) => {
                let u = &self.users[ix];
                let _ = write!(
                    out,
                    "<a class=\"s-avatar s-avatar__16 s-user-card--avatar\" data-user-id=\"{}\" href=\"{}\"> <div class=\"gravatar-wrapper-16\">\n<img alt=\"{}&#39;s user avatar\" class=\"s-avatar--image\" height=\"16\" src=\"/avatar/{:016x}?s=32\" width=\"16\"/>\n</div>\n</a>\n<div class=\"s-user-card--info\">\n<div class=\"s-user-card--link d-flex gs4\" itemprop=\"author\" itemscope=\"\" itemtype=\"http://schema.org/Person\">\n<a class=\"flex--item\" href=\"{}\" itemprop=\"url\"><span itemprop=\"name\">{}</span></a>\n</div>\n<ul class=\"s-user-card--awards\">\n<li class=\"s-user-card--rep\"><span class=\"todo-no-class-here\" dir=\"ltr\" title=\"reputation score {}\">{}</span></li>\n</ul>\n</div>\n",
                    u.id,
                    user_url(u),
                    attr(&u.name),
                    u.id.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    user_url(u),
                    esc(&u.name),
                    thousands(u.reputation),
                    short_number(u.reputation)
                );
            }
            GenAuthor::Deleted(n) => {
                let _ = write!(
                    out,
                    "<div class=\"s-user-card--info\">\n<div class=\"s-user-card--link d-flex gs4\" itemprop=\"author\" itemscope=\"\" itemtype=\"http://schema.org/Person\">\n<span itemprop=\"name\">user{n}</span>\n</div>\n</div>\n"
                );
            }
            GenAuthor::CommunityWiki => {
                out.push_str("<div class=\"s-user-card--info\">\n<span class=\"community-wiki\">community wiki</span>\n</div>\n");
            }
        }
        let _ = write!(
            out,
            "<time class=\"s-user-card--time\">asked <span class=\"relativetime\" title=\"{}\">{}</span></time>\n</div>\n</div>\n</div>\n</div>\n</div>\n",
            title_time(q.created),
            relative(q.created, self.now)
        );
    }

    /// Renders a listing page: `tag == None` is `/questions?tab=SORT`,
    /// otherwise `/questions/tagged/TAG?tab=SORT`. `None` when the page does
    /// not exist (unknown tag, page 0, past the last page).
    pub fn render_listing_page(
        &self,
        tag: Option<&str>,
        sort: Sort,
        page: u32,
        pagesize: u32,
    ) -> Option<String> {
        let pagesize = crate::content::normalize_pagesize(Some(pagesize));
        let slice = self.page_slice(tag, sort, page, pagesize)?;
        let last = self.last_page(tag, pagesize);
        let total = self.order(tag, sort).map_or(0, <[u32]>::len);
        let title = listing_title(tag, sort);
        let base = listing_base(tag);
        let href = |p: u32, s: Sort| listing_href(tag, s, p, pagesize);
        let mut out = String::with_capacity(260_000);
        self.head(
            &mut out,
            &title,
            &base,
            None,
            if tag.is_some() {
                "tagged-questions-page"
            } else {
                "questions-page"
            },
        );
        let heading = match tag {
            Some(t) => format!("Questions tagged [{}]", esc(t)),
            None => match sort {
                Sort::Newest => "Newest Questions".to_string(),
                _ => "All Questions".to_string(),
            },
        };
        let _ = write!(
            out,
            "<div id=\"content\" class=\"snippet-hidden\">\n<div id=\"mainbar\" role=\"main\" aria-labelledby=\"h-all-questions\">\n<div class=\"d-flex\">\n<h1 class=\"flex--item fl1 fs-headline1 mb24\" id=\"h-all-questions\">{heading}</h1>\n<div class=\"ml12 aside-cta flex--item print:d-none\">\n<a class=\"ws-nowrap s-btn s-btn__filled\" href=\"/questions/ask\">Ask Question</a>\n</div>\n</div>\n<div class=\"d-flex ai-center jc-space-between fw-wrap mb12\">\n<div class=\"flex--item fs-body3 mr12\" data-controller=\"se-uql\">\n{} questions\n</div>\n<div class=\"d-flex fd-row ai-center\">\n<div class=\"flex--item s-btn-group js-filter-btn mr16\">\n",
            thousands(total as u64)
        );
        for s in Sort::ALL {
            let _ = writeln!(
                out,
                "<a class=\"js-sort-preference-change flex--item s-btn s-btn__muted s-btn__outlined{}\" data-nav-xhref=\"\" data-value=\"{}\" href=\"{}\" title=\"{} questions\"><div class=\"flex--item\">{}</div></a>",
                if s == sort { " is-selected" } else { "" },
                s.as_str(),
                attr(&href(1, s)),
                s.as_str(),
                s.as_str()
            );
        }
        out.push_str("</div>\n</div>\n</div>\n<div class=\"flush-left\" id=\"questions\">\n");
        for (i, &ix) in slice.iter().enumerate() {
            self.listing_row(
                &mut out,
                &self.questions[ix as usize],
                (page as usize - 1) * pagesize as usize + i + 1,
            );
        }
        out.push_str("</div>\n<br class=\"clear-both\"/>\n<div class=\"s-pagination site1 themed page-sizer float-right\">\n");
        for size in [15u32, 30, 50] {
            let _ = writeln!(
                out,
                "<a {}class=\"s-pagination--item{}\" href=\"{}\" title=\"Show {size} items per page\">{size}</a>",
                if size == pagesize {
                    "aria-current=\"true\" "
                } else {
                    ""
                },
                if size == pagesize { " is-selected" } else { "" },
                attr(&format!("{base}?tab={}&pagesize={size}", sort.as_str()))
            );
        }
        out.push_str("<span class=\"s-pagination--item s-pagination--item__clear\">per page</span>\n</div>\n");
        if last > 1 {
            self.pager(&mut out, page, last, &href, sort);
        }
        out.push_str(
            "</div>\n<div aria-label=\"sidebar\" id=\"sidebar\" role=\"complementary\">\n",
        );
        out.push_str(&self.chrome.sidebar_static);
        out.push_str("<div class=\"module js-gps-related-tags\" data-tracker=\"rt=1\">\n<h4 id=\"h-related-tags\">Related Tags</h4>\n");
        for t in self.by_tag.keys().take(30) {
            let count = self.by_tag[t][0].len();
            let _ = writeln!(
                out,
                "<div class=\"\"><a class=\"s-tag\" href=\"/questions/tagged/{}\" rel=\"tag\" title=\"show questions tagged &#39;{}&#39;\">{}</a>&nbsp;<span class=\"item-multiplier\"><span class=\"item-multiplier-x\">&times;</span>&nbsp;<span class=\"item-multiplier-count\">{count}</span></span></div>",
                encode_tag(t),
                attr(t),
                esc(t)
            );
        }
        out.push_str("</div>\n</div>\n</div>\n");
        self.tail(&mut out);
        Some(out)
    }

    fn pager(
        &self,
        out: &mut String,
        page: u32,
        last: u32,
        href: &dyn Fn(u32, Sort) -> String,
        sort: Sort,
    ) {
        out.push_str("<div class=\"s-pagination site1 themed pager float-left\">\n");
        if page > 1 {
            let _ = writeln!(
                out,
                "<a class=\"s-pagination--item js-pagination-item\" href=\"{}\" rel=\"prev\" title=\"Go to page {}\">Prev </a>",
                attr(&href(page - 1, sort)),
                page - 1
            );
        }
        let mut shown: Vec<u32> = vec![1, last];
        shown.extend(page.saturating_sub(2).max(1)..=(page + 2).min(last));
        if page <= 4 {
            shown.extend(1..=5u32.min(last));
        }
        shown.sort_unstable();
        shown.dedup();
        let mut prev = 0;
        for p in shown {
            if p > prev + 1 {
                out.push_str(
                    "<div class=\"s-pagination--item s-pagination--item__clear\">…</div>\n",
                );
            }
            if p == page {
                let _ = writeln!(
                    out,
                    "<div aria-current=\"page\" class=\"s-pagination--item is-selected\">{p}</div>"
                );
            } else {
                let _ = writeln!(
                    out,
                    "<a class=\"s-pagination--item js-pagination-item\" href=\"{}\" rel=\"\" title=\"Go to page {p}\">{p}</a>",
                    attr(&href(p, sort))
                );
            }
            prev = p;
        }
        if page < last {
            let _ = write!(
                out,
                "<a class=\"s-pagination--item js-pagination-item\" href=\"{}\" rel=\"next\" title=\"Go to page {}\"> Next</a>",
                attr(&href(page + 1, sort)),
                page + 1
            );
        }
        out.push_str("</div>\n");
    }

    /// A real-looking "Page not found" page (served with status 404).
    pub fn render_not_found_page(&self) -> String {
        let mut out = String::with_capacity(200_000);
        self.head(
            &mut out,
            "Page not found - Stack Overflow",
            "/404",
            None,
            "error-page",
        );
        out.push_str("<div id=\"content\" class=\"snippet-hidden\">\n<div class=\"d-flex fw-wrap gs24 sm:fd-column\">\n<div class=\"flex--item fl1\">\n<h1 class=\"fs-headline1 mb4\">Page not found</h1>\n<div class=\"fs-body3 mb24\">We&#39;re sorry, we couldn&#39;t find the page you requested.</div>\n<p>Try <a href=\"/search\">searching for similar questions</a></p>\n<p>Browse our <a href=\"/questions\">recent questions</a></p>\n<p>Browse our <a href=\"/tags\">popular tags</a></p>\n<p>If you feel something is missing that should be here, <a href=\"/contact\">contact us</a>.</p>\n</div>\n</div>\n</div>\n");
        self.tail(&mut out);
        out
    }
}

fn excerpt(body: &Body, max_chars: usize) -> String {
    let text = body.text(false);
    if text.chars().count() <= max_chars {
        return text;
    }
    let cut: String = text.chars().take(max_chars).collect();
    format!("{}...", cut.trim_end())
}

/// The `<title>` of a listing page.
pub(crate) fn listing_title(tag: Option<&str>, sort: Sort) -> String {
    match (tag, sort) {
        (Some(t), Sort::Votes) => format!("Highest scored '{t}' questions - Stack Overflow"),
        (Some(t), Sort::Newest) => format!("Newest '{t}' Questions - Stack Overflow"),
        (Some(t), Sort::Active) => format!("Active '{t}' Questions - Stack Overflow"),
        (Some(t), Sort::Frequent) => format!("Frequent '{t}' Questions - Stack Overflow"),
        (None, Sort::Votes) => "Highest scored questions - Stack Overflow".to_string(),
        (None, Sort::Newest) => "Newest Questions - Stack Overflow".to_string(),
        (None, Sort::Active) => "Active Questions - Stack Overflow".to_string(),
        (None, Sort::Frequent) => "Frequent Questions - Stack Overflow".to_string(),
    }
}

/// `/questions/tagged/TAG` or `/questions`.
pub(crate) fn listing_base(tag: Option<&str>) -> String {
    match tag {
        Some(t) => format!("/questions/tagged/{}", encode_tag(t)),
        None => "/questions".to_string(),
    }
}

/// The href of a listing page as the pager writes it.
pub(crate) fn listing_href(tag: Option<&str>, sort: Sort, page: u32, pagesize: u32) -> String {
    format!(
        "{}?tab={}&page={page}&pagesize={pagesize}",
        listing_base(tag),
        sort.as_str()
    )
}

/// The human-verification page `/nocaptcha` serves.
pub(crate) fn captcha_page(token: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n    <title>Human verification - Stack Overflow</title>\n    <meta name=\"robots\" content=\"noindex, nofollow\">\n</head>\n<body class=\"nocaptcha-page\">\n<div id=\"content\">\n    <h1 class=\"fs-headline1\">Human verification</h1>\n    <p>We&#39;ve received a high volume of requests from your network. To continue, please confirm you are a human (and not a spammer).</p>\n    <form method=\"post\" action=\"/nocaptcha\">\n        <input type=\"hidden\" name=\"s\" value=\"{}\">\n        <div class=\"js-captcha-widget\" data-sitekey=\"sofleet-mock\"></div>\n        <button type=\"submit\" class=\"s-btn s-btn__primary\">I am human</button>\n    </form>\n</div>\n</body>\n</html>\n",
        attr(token)
    )
}

/// Small error pages for 429 / 500 / 503.
pub(crate) fn error_page(status: u16) -> String {
    let (title, text) = match status {
        429 => (
            "Too Many Requests - Stack Overflow",
            "Too many requests. Please slow down and retry after the time the Retry-After header states.",
        ),
        503 => (
            "Service Unavailable - Stack Overflow",
            "Stack Overflow is currently offline for maintenance or overloaded. Please retry shortly.",
        ),
        _ => (
            "Something went wrong - Stack Overflow",
            "An error occurred while processing your request. Please retry.",
        ),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n    <title>{title}</title>\n</head>\n<body class=\"error-page\">\n<div id=\"content\">\n    <h1 class=\"fs-headline1\">{}</h1>\n    <p>{text}</p>\n</div>\n</body>\n</html>\n",
        title.trim_end_matches(" - Stack Overflow")
    )
}
