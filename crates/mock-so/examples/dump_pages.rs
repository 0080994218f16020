//! Writes a few generated pages of the default mock site to a directory, to
//! look at them in a browser or diff them against real pages' structure.
//!
//! `cargo run -p sofleet-mock-so --example dump_pages -- /tmp/pages`

use sofleet_mock_so::{MockSiteConfig, SiteContent, Sort};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&dir)?;
    let site = SiteContent::generate(&MockSiteConfig::default())?;
    let examples = site.examples();
    println!("{examples:#?}");
    let cases = [
        ("duplicate", examples.duplicate),
        ("community-wiki", examples.community_wiki_answer),
        ("accepted-not-first", examples.accepted_not_first),
        ("no-answers", examples.no_answers),
    ];
    for (name, id) in cases {
        if let Some(page) = id.and_then(|id| site.render_question_page(id)) {
            let path = dir.join(format!("question-{name}.html"));
            std::fs::write(&path, &page)?;
            println!("{} ({} bytes)", path.display(), page.len());
        }
    }
    if let Some(page) = site.render_listing_page(Some("dask"), Sort::Votes, 2, 15) {
        let path = dir.join("listing-dask-votes-2.html");
        std::fs::write(&path, &page)?;
        println!("{} ({} bytes)", path.display(), page.len());
    }
    Ok(())
}
