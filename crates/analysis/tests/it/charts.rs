//! Charts: files exist, decode as PNG / SVG, show the expected bars; the
//! Markdown report links them.

use std::path::Path;

use sofleet_analysis::{
    ChartFormat, ChartKind, PartialAggregate, REPORT_FILE_NAME, Summary, markdown_report,
    questions_frame, write_chart, write_charts, write_report,
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

#[test]
fn report_has_tables_and_links_to_the_charts() {
    let dir = tempfile::tempdir().unwrap();
    let summary = lesson_summary(3);
    let files = write_report(&summary, dir.path()).unwrap();
    assert_eq!(files.report, dir.path().join(REPORT_FILE_NAME));
    let md = std::fs::read_to_string(&files.report).unwrap();
    assert_eq!(md, markdown_report(&summary, &files.charts));

    for needle in [
        "| Questions | 6 |",
        "| Unanswered | 1 (16.7 %) |",
        "| With an accepted answer | 2 (33.3 %) |",
        "**Zoë** (12 votes)",
        "| 1 | Zoë | 2 |",
        "| 2 | Пётр | 7 |",
        "| python | 3 |",
        "| 5 | -2 | 5 | 4.40 | 10 |",
        "![Top-answer authors by total votes](top_authors_by_votes.png)",
        "[SVG version](answer_score_histogram.svg)",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
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
    let md = markdown_report(&PartialAggregate::from_page(&records).summary(5), &[]);
    assert!(md.contains("| 1 | a\\|b \\*c\\* | 1 |"), "{md}");
    assert!(md.contains("| c\\# | 1 |"), "{md}");
}
