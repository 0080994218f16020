//! Charts: files exist, decode as PNG / SVG, show the expected bars; the
//! Markdown report links them.

use std::path::Path;

use sofleet_analysis::{
    AnalysisError, ChartFile, ChartFormat, ChartKind, ChartOptions, PartialAggregate,
    REPORT_FILE_NAME, Summary, markdown_report, questions_frame, write_chart, write_chart_with,
    write_charts, write_charts_with, write_report, write_report_with,
};

use crate::common::{answer, lesson_records, question, user};

const BAR_RGB: [u8; 3] = [0x1f, 0x77, 0xb4];

struct Png {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

fn decode_png(path: &Path) -> Png {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    Png {
        width: info.width as usize,
        height: info.height as usize,
        rgb: buf,
    }
}

impl Png {
    fn is_bar(&self, x: usize, y: usize) -> bool {
        let i = (y * self.width + x) * 3;
        self.rgb[i..i + 3] == BAR_RGB
    }

    /// Runs of consecutive rows (horizontal bars) or columns (vertical bars)
    /// that contain bar-coloured pixels: the number of separate bars.
    fn bar_runs(&self, horizontal: bool) -> usize {
        let (outer, inner) = if horizontal {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        };
        let mut runs = 0;
        let mut inside = false;
        for o in 0..outer {
            let hit = (0..inner).any(|i| {
                if horizontal {
                    self.is_bar(i, o)
                } else {
                    self.is_bar(o, i)
                }
            });
            if hit && !inside {
                runs += 1;
            }
            inside = hit;
        }
        runs
    }
}

fn svg_bar_count(svg: &str) -> usize {
    svg.lines()
        .filter(|l| l.contains("<rect") && l.to_ascii_uppercase().contains("#1F77B4"))
        .count()
}

fn lesson_summary(top_n: usize) -> Summary {
    Summary::from_frame(&questions_frame(&lesson_records()).unwrap(), top_n).unwrap()
}

#[test]
fn charts_are_written_as_png_and_svg_with_the_expected_bars() {
    let dir = tempfile::tempdir().unwrap();
    let summary = lesson_summary(3);
    let charts = write_charts(&summary, dir.path()).unwrap();
    assert_eq!(charts.len(), 6);

    // Hand-computed: 3 authors by votes (12, 7, 5), 3 by count (2, 1, 1),
    // 5 non-empty one-wide score bins (-2, 2, 5, 7, 10).
    let expected = |kind| match kind {
        ChartKind::AuthorsByVotes => 3,
        ChartKind::AuthorsByCount => 3,
        ChartKind::ScoreHistogram => 5,
    };
    for chart in &charts {
        assert!(chart.path.starts_with(dir.path()));
        assert_eq!(chart.bars, expected(chart.kind), "{chart:?}");
        let horizontal = chart.kind != ChartKind::ScoreHistogram;
        match chart.format {
            ChartFormat::Png => {
                assert_eq!(chart.path.extension().unwrap(), "png");
                let png = decode_png(&chart.path);
                assert!(png.width >= 600 && png.height >= 200);
                assert_eq!(png.bar_runs(horizontal), expected(chart.kind), "{chart:?}");
            }
            ChartFormat::Svg => {
                assert_eq!(chart.path.extension().unwrap(), "svg");
                let svg = std::fs::read_to_string(&chart.path).unwrap();
                assert!(svg.trim_start().starts_with("<svg"), "not an SVG");
                assert!(svg.trim_end().ends_with("</svg>"), "SVG not closed");
                assert_eq!(svg_bar_count(&svg), expected(chart.kind), "{chart:?}");
            }
        }
    }
    // Author names are labels, non-ASCII included, in the SVG text.
    let svg = std::fs::read_to_string(dir.path().join("top_authors_by_votes.svg")).unwrap();
    for name in ["Zoë", "Пётр", "Bob"] {
        assert!(svg.contains(name), "{name} missing from the SVG");
    }
    assert!(charts.iter().all(|c| c.missing_glyphs.is_empty()));
}

#[test]
fn negative_totals_and_empty_summaries_draw_without_error() {
    let dir = tempfile::tempdir().unwrap();
    let records = vec![
        question(1, &[], vec![answer(1, -4, false, user("Neg", None))]),
        question(2, &[], vec![answer(2, 6, false, user("Pos", None))]),
        question(3, &[], vec![answer(3, 0, false, user("Zero", None))]),
    ];
    let summary = PartialAggregate::from_page(&records).summary(10);
    let chart = write_chart(
        &summary,
        ChartKind::AuthorsByVotes,
        ChartFormat::Png,
        &dir.path().join("votes.png"),
    )
    .unwrap();
    // The zero total is not a visible bar.
    assert_eq!(chart.bars, 2);
    assert_eq!(decode_png(&chart.path).bar_runs(true), 2);

    let empty = PartialAggregate::default().summary(10);
    for chart in write_charts(&empty, &dir.path().join("empty")).unwrap() {
        assert_eq!(chart.bars, 0);
        if chart.format == ChartFormat::Png {
            assert_eq!(decode_png(&chart.path).bar_runs(true), 0);
        }
    }
}

#[test]
fn embedded_font_covers_non_ascii_names() {
    use ab_glyph::{Font, FontRef};
    let font = FontRef::try_from_slice(include_bytes!("../../assets/DejaVuSans.ttf")).unwrap();
    for ch in "ÅåéüöñçßØПётрΩλ…–".chars() {
        assert_ne!(font.glyph_id(ch).0, 0, "no glyph for {ch:?}");
    }
}

#[test]
fn non_ascii_labels_are_drawn_differently_from_ascii_ones() {
    let dir = tempfile::tempdir().unwrap();
    let draw = |name: &str, file: &str| {
        let records = vec![question(
            1,
            &[],
            vec![answer(1, 3, false, user(name, None))],
        )];
        let summary = PartialAggregate::from_page(&records).summary(5);
        let path = dir.path().join(file);
        write_chart(&summary, ChartKind::AuthorsByCount, ChartFormat::Png, &path).unwrap();
        decode_png(&path).rgb
    };
    let ascii = draw("Asa", "ascii.png");
    let accented = draw("Åsa", "accented.png");
    let other = draw("Asa", "ascii2.png");
    // (plain `assert!`: the pixel buffers are too large to print)
    assert!(ascii == other, "rendering is deterministic");
    assert!(ascii != accented, "the ring of Å must be drawn");
}

/// A test font with glyphs for 髙, 㐀 and 㐁 only (see tests/fonts/README.md).
fn fallback_font() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fonts/fallback-test.ttf")
}

/// Draws the by-count chart of one author as PNG; returns the file and pixels.
fn one_author_png(dir: &Path, name: &str, options: &ChartOptions) -> (ChartFile, Vec<u8>) {
    let records = vec![question(
        1,
        &[],
        vec![answer(1, 3, false, user(name, None))],
    )];
    let summary = PartialAggregate::from_page(&records).summary(5);
    let file = format!(
        "{}.png",
        name.chars()
            .map(|c| u32::from(c).to_string())
            .collect::<Vec<_>>()
            .join("-")
    );
    let path = dir.join(file);
    let chart = write_chart_with(
        &summary,
        ChartKind::AuthorsByCount,
        ChartFormat::Png,
        &path,
        options,
    )
    .unwrap();
    let rgb = decode_png(&path).rgb;
    (chart, rgb)
}

#[test]
fn cjk_and_right_to_left_names_are_drawn_with_real_glyphs() {
    let dir = tempfile::tempdir().unwrap();
    let none = ChartOptions::default();
    // Characters no font covers are all drawn as the same empty box, so two
    // such names give identical images: pixel comparisons can tell boxes
    // from glyphs.
    let (boxes_a, tofu_a) = one_author_png(dir.path(), "\u{3400}\u{3401}", &none);
    let (_, tofu_b) = one_author_png(dir.path(), "\u{3401}\u{3400}", &none);
    assert!(
        tofu_a == tofu_b,
        "uncovered characters should draw identical boxes"
    );
    assert_eq!(boxes_a.missing_glyphs, vec!['\u{3400}', '\u{3401}']);

    // Chinese, Japanese and Korean names: real glyphs, each name different
    // from the same characters in another order and from the boxes.
    for (name, reversed) in [
        ("李雷", "雷李"),
        ("田中 花子", "花子 田中"),
        ("김민준", "준민김"),
        ("張偉", "偉張"),
        // Right to left: shaped into joined forms and reordered (see the
        // unit tests of `fonts::visual_text`); DejaVu has the glyphs.
        ("عمر فاروق", "فاروق عمر"),
        ("حمید رضایی", "رضایی حمید"),
        ("דוד כהן", "כהן דוד"),
    ] {
        let (chart, pixels) = one_author_png(dir.path(), name, &none);
        let (_, other) = one_author_png(dir.path(), reversed, &none);
        assert!(
            chart.missing_glyphs.is_empty(),
            "{name}: {:?}",
            chart.missing_glyphs
        );
        assert!(
            pixels != other,
            "{name} and {reversed} drawn alike: glyphs missing"
        );
        assert!(pixels != tofu_a, "{name} drawn as boxes");
    }
    // A name mixing scripts keeps both parts.
    let (mixed, mixed_pixels) = one_author_png(dir.path(), "Zoë 李雷", &none);
    let (_, latin_only) = one_author_png(dir.path(), "Zoë 口口", &none);
    assert!(mixed.missing_glyphs.is_empty());
    assert!(mixed_pixels != latin_only);
}

#[test]
fn long_cjk_names_are_shortened_to_fit_the_image() {
    let dir = tempfile::tempdir().unwrap();
    // 40 CJK characters are about 750 px at the label size: wider than the
    // label area, so the label must be shortened, not cut off at the edge.
    let long: String = "李雷田中花子王小明張偉".chars().cycle().take(40).collect();
    let (_, pixels) = one_author_png(dir.path(), &long, &ChartOptions::default());
    let png = decode_png(&dir.path().join(format!(
        "{}.png",
        long.chars()
            .map(|c| u32::from(c).to_string())
            .collect::<Vec<_>>()
            .join("-")
    )));
    assert!(pixels == png.rgb);
    let ink_in_column = |x: usize| {
        (0..png.height).any(|y| {
            let i = (y * png.width + x) * 3;
            png.rgb[i..i + 3] != [255, 255, 255]
        })
    };
    assert!(
        (0..8).all(|x| !ink_in_column(x)),
        "the label touches the left edge: it was cut off"
    );
    // The SVG keeps the shortened label, ending in an ellipsis.
    let records = vec![question(
        1,
        &[],
        vec![answer(1, 3, false, user(&long, None))],
    )];
    let summary = PartialAggregate::from_page(&records).summary(5);
    let path = dir.path().join("long.svg");
    write_chart(&summary, ChartKind::AuthorsByCount, ChartFormat::Svg, &path).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    let shown = svg
        .lines()
        .find(|l| l.starts_with("李雷"))
        .expect("label line in the SVG");
    assert!(shown.ends_with('…'), "{shown}");
    assert!(shown.chars().count() < 40, "{shown}");
}

#[test]
fn fallback_fonts_cover_what_the_embedded_ones_lack() {
    let dir = tempfile::tempdir().unwrap();
    let with_font = ChartOptions {
        fallback_fonts: vec![fallback_font()],
    };
    let (chart_a, a) = one_author_png(dir.path(), "\u{3400}\u{3401}", &with_font);
    let (_, b) = one_author_png(dir.path(), "\u{3401}\u{3400}", &with_font);
    assert!(
        chart_a.missing_glyphs.is_empty(),
        "{:?}",
        chart_a.missing_glyphs
    );
    assert!(a != b, "the fallback font's glyphs are not drawn");
    let (_, boxes) = one_author_png(dir.path(), "\u{3400}\u{3401}", &ChartOptions::default());
    assert!(a != boxes);

    // The whole chart set and the report take the same options.
    let records = vec![question(
        1,
        &[],
        vec![answer(1, 3, false, user("髙橋 㐀", None))],
    )];
    let summary = PartialAggregate::from_page(&records).summary(5);
    let files = write_report_with(&summary, &dir.path().join("with"), &with_font, &[]).unwrap();
    assert!(files.charts.iter().all(|c| c.missing_glyphs.is_empty()));
    let md = std::fs::read_to_string(&files.report).unwrap();
    assert!(!md.contains("no glyph"), "{md}");

    // Without the font the report says which characters are missing.
    let files = write_report(&summary, &dir.path().join("without")).unwrap();
    for chart in &files.charts {
        let want = match chart.kind {
            ChartKind::ScoreHistogram => vec![],
            _ => vec!['\u{3400}', '髙'],
        };
        assert_eq!(chart.missing_glyphs, want, "{chart:?}");
    }
    let md = std::fs::read_to_string(&files.report).unwrap();
    assert!(md.contains("U+3400 U+9AD9"), "{md}");
    // The whole report, the note on the missing characters included.
    insta::assert_snapshot!("report_missing_glyphs", md);
}

#[test]
fn unusable_fallback_fonts_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_font = dir.path().join("notes.txt");
    std::fs::write(&not_a_font, "not a font").unwrap();
    let missing = dir.path().join("missing.ttf");
    let summary = PartialAggregate::default().summary(3);
    for (path, needle) in [
        (&not_a_font, "not a TrueType or OpenType font"),
        (&missing, "cannot use font file"),
    ] {
        let options = ChartOptions {
            fallback_fonts: vec![path.clone()],
        };
        let err = write_charts_with(&summary, &dir.path().join("out"), &options).unwrap_err();
        assert!(
            matches!(&err, AnalysisError::Font { path: p, .. } if p == path),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains(needle) && text.contains(&path.display().to_string()),
            "{text}"
        );
    }
    // Nothing was written.
    assert!(
        !dir.path()
            .join("out")
            .join("top_authors_by_votes.png")
            .exists()
    );
}

#[test]
fn report_has_tables_and_links_to_the_charts() {
    let dir = tempfile::tempdir().unwrap();
    let summary = lesson_summary(3);
    let files = write_report(&summary, dir.path()).unwrap();
    assert_eq!(files.report, dir.path().join(REPORT_FILE_NAME));
    let md = std::fs::read_to_string(&files.report).unwrap();
    assert_eq!(md, markdown_report(&summary, &files.charts, &[]));
    assert!(
        !md.contains("## Crawl"),
        "no metadata, no crawl table:\n{md}"
    );

    // The whole report for the hand-built data set (`lesson_records`): its overview (6
    // questions, 1 unanswered = 16.7 %, 2 accepted = 33.3 %), Zoë first by count (2) with
    // the most votes (12), Пётр second by votes (7), python in 3 questions, the top-answer
    // scores (5 of them, -2 to 10, median 5, mean 4.40), and a PNG shown inline and an SVG
    // linked per chart. `tests/it/snapshots/it__charts__report_lesson.snap`;
    // `INSTA_UPDATE=always cargo test -p sofleet-analysis` rewrites it after a change.
    insta::assert_snapshot!("report_lesson", md);
    // Every linked chart exists next to the report.
    for chart in &files.charts {
        let name = chart.path.file_name().unwrap().to_string_lossy();
        assert!(md.contains(&format!("({name})")), "{name} not linked");
        assert!(dir.path().join(name.as_ref()).is_file());
    }
}

#[test]
fn markdown_special_characters_in_names_are_escaped() {
    let records = vec![question(
        1,
        &["c#"],
        vec![answer(1, 3, false, user("a|b *c*", None))],
    )];
    let md = markdown_report(&PartialAggregate::from_page(&records).summary(5), &[], &[]);
    assert!(md.contains("| 1 | a\\|b \\*c\\* | 1 |"), "{md}");
    assert!(md.contains("| c\\# | 1 |"), "{md}");
    insta::assert_snapshot!("report_escaped_names", md);
}
