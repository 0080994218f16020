//! Bar charts of a [`Summary`] with plotters: PNG and SVG, no display needed.
//!
//! PNG text is drawn with fonts embedded in the crate, so no system fonts are
//! needed: DejaVu Sans (`assets/DejaVuSans.ttf`, Bitstream Vera / DejaVu
//! licence) for Latin, Greek and Cyrillic, and Sofleet CJK
//! (`assets/SofleetCJK-Regular.otf`, a subset of Noto Sans CJK, SIL OFL 1.1)
//! for Chinese, Japanese and Korean names. Each label is split into runs of
//! characters one font covers, so a name mixing scripts renders whole;
//! right-to-left names (Arabic, Persian, Hebrew) are joined into their
//! contextual letter forms and reordered with the Unicode bidi algorithm. Fonts
//! for other scripts can be added with [`ChartOptions::fallback_fonts`];
//! characters no font covers are listed in [`ChartFile::missing_glyphs`].
//! SVG files keep their text as text in the `sans-serif` family, which the
//! viewer resolves with its own fonts.

use std::io::Write;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

use crate::aggregate::Summary;
use crate::error::{AnalysisError, Result};
use crate::fonts::{FontChain, run_width};
use crate::io::write_atomically;

/// The font family name of the charts' titles and axes (registered from the
/// embedded DejaVu Sans; also the SVG files' `font-family`).
pub const FONT_FAMILY: &str = "sans-serif";

/// The colour of every bar (matplotlib's blue); nothing else in a chart uses it.
const BAR_COLOR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const LABEL_SIZE: u32 = 16;
const TITLE_SIZE: u32 = 24;
const MAX_LABEL_CHARS: usize = 40;
/// Widest bar label in pixels; longer labels are shortened with an ellipsis.
const MAX_LABEL_WIDTH: u32 = 480;
/// Gap in pixels between a bar label and the plotting area.
const LABEL_GAP: i32 = 10;

/// How charts are drawn.
///
/// ```
/// use sofleet_analysis::{ChartOptions, PartialAggregate, write_charts_with};
///
/// let summary = PartialAggregate::default().summary(10);
/// let dir = tempfile::tempdir()?;
/// // Fonts for scripts the embedded fonts lack, e.g. Devanagari or Thai:
/// // `fallback_fonts: vec!["/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf".into()]`.
/// let options = ChartOptions::default();
/// let charts = write_charts_with(&summary, dir.path(), &options)?;
/// assert_eq!(charts.len(), 6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartOptions {
    /// Font files (TrueType or OpenType; the first font of a `.ttc`
    /// collection) tried in order for characters the embedded fonts lack.
    /// Each file is read once per process.
    pub fallback_fonts: Vec<PathBuf>,
}

/// Which chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Horizontal bars: top-N top-answer authors by total top-answer votes.
    AuthorsByVotes,
    /// Horizontal bars: top-N top-answer authors by number of top answers.
    AuthorsByCount,
    /// Vertical bars: histogram of top-answer scores.
    ScoreHistogram,
}

impl ChartKind {
    /// Every chart kind, in report order.
    pub const ALL: [ChartKind; 3] = [
        ChartKind::AuthorsByVotes,
        ChartKind::AuthorsByCount,
        ChartKind::ScoreHistogram,
    ];

    /// The file name without extension.
    pub fn file_stem(self) -> &'static str {
        match self {
            ChartKind::AuthorsByVotes => "top_authors_by_votes",
            ChartKind::AuthorsByCount => "top_authors_by_count",
            ChartKind::ScoreHistogram => "answer_score_histogram",
        }
    }

    /// The chart title.
    pub fn title(self) -> &'static str {
        match self {
            ChartKind::AuthorsByVotes => "Top-answer authors by total votes",
            ChartKind::AuthorsByCount => "Top-answer authors by number of top answers",
            ChartKind::ScoreHistogram => "Top-answer score distribution",
        }
    }
}

/// Image format of a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartFormat {
    /// PNG raster image.
    Png,
    /// SVG vector image.
    Svg,
}

impl ChartFormat {
    /// The file extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            ChartFormat::Png => "png",
            ChartFormat::Svg => "svg",
        }
    }
}

/// A chart file that was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartFile {
    /// Which chart.
    pub kind: ChartKind,
    /// Its image format.
    pub format: ChartFormat,
    /// Where it was written.
    pub path: PathBuf,
    /// How many bars were drawn (zero-length bars are not drawn).
    pub bars: usize,
    /// Characters of the labels that no font has a glyph for, sorted, each
    /// once: the PNG shows them as empty boxes (an SVG viewer may still have
    /// them). Add a font covering them with [`ChartOptions::fallback_fonts`].
    pub missing_glyphs: Vec<char>,
}

/// The characters that any of `charts` could not draw
/// ([`ChartFile::missing_glyphs`]), each once, with their code points, e.g.
/// `"㐀髙 (U+3400 U+9AD9)"`; `None` when every glyph was drawn.
///
/// ```
/// # use sofleet_analysis::{ChartFile, ChartFormat, ChartKind, missing_glyphs_note};
/// let chart = |missing: Vec<char>| ChartFile {
///     kind: ChartKind::AuthorsByVotes,
///     format: ChartFormat::Png,
///     path: "votes.png".into(),
///     bars: 1,
///     missing_glyphs: missing,
/// };
/// let charts = [chart(vec!['髙']), chart(vec!['\u{3400}', '髙'])];
/// assert_eq!(missing_glyphs_note(&charts).as_deref(), Some("㐀髙 (U+3400 U+9AD9)"));
/// assert_eq!(missing_glyphs_note(&[chart(vec![])]), None);
/// ```
pub fn missing_glyphs_note(charts: &[ChartFile]) -> Option<String> {
    let mut missing: Vec<char> = charts
        .iter()
        .flat_map(|c| c.missing_glyphs.iter().copied())
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return None;
    }
    let codes: Vec<String> = missing
        .iter()
        .map(|c| format!("U+{:04X}", u32::from(*c)))
        .collect();
    Some(format!(
        "{} ({})",
        missing.iter().collect::<String>(),
        codes.join(" ")
    ))
}

/// Writes every chart ([`ChartKind::ALL`]) as PNG and SVG into `dir`
/// (created if missing), named `<kind stem>.<png|svg>`, each atomically,
/// with the default [`ChartOptions`].
///
/// # Errors
/// [`AnalysisError::Chart`] if drawing fails, [`AnalysisError::Io`] if a file
/// cannot be written.
pub fn write_charts(summary: &Summary, dir: &Path) -> Result<Vec<ChartFile>> {
    write_charts_with(summary, dir, &ChartOptions::default())
}

/// [`write_charts`] with options (e.g. fallback fonts).
///
/// # Errors
/// As [`write_charts`], and [`AnalysisError::Font`] if a fallback font
/// cannot be read or is not a font.
pub fn write_charts_with(
    summary: &Summary,
    dir: &Path,
    options: &ChartOptions,
) -> Result<Vec<ChartFile>> {
    let fonts = FontChain::new(&options.fallback_fonts)?;
    let mut out = Vec::new();
    for kind in ChartKind::ALL {
        for format in [ChartFormat::Png, ChartFormat::Svg] {
            let path = dir.join(format!("{}.{}", kind.file_stem(), format.extension()));
            out.push(draw_chart_file(summary, kind, format, &path, &fonts)?);
        }
    }
    Ok(out)
}

/// Writes one chart to `path` atomically, with the default [`ChartOptions`].
///
/// # Errors
/// As [`write_charts`].
pub fn write_chart(
    summary: &Summary,
    kind: ChartKind,
    format: ChartFormat,
    path: &Path,
) -> Result<ChartFile> {
    write_chart_with(summary, kind, format, path, &ChartOptions::default())
}

/// [`write_chart`] with options (e.g. fallback fonts).
///
/// # Errors
/// As [`write_charts_with`].
pub fn write_chart_with(
    summary: &Summary,
    kind: ChartKind,
    format: ChartFormat,
    path: &Path,
    options: &ChartOptions,
) -> Result<ChartFile> {
    let fonts = FontChain::new(&options.fallback_fonts)?;
    draw_chart_file(summary, kind, format, path, &fonts)
}

fn draw_chart_file(
    summary: &Summary,
    kind: ChartKind,
    format: ChartFormat,
    path: &Path,
    fonts: &FontChain,
) -> Result<ChartFile> {
    let chart_err = |message: String| AnalysisError::Chart {
        path: path.to_owned(),
        message,
    };
    let spec = ChartSpec::new(summary, kind, fonts).map_err(chart_err)?;
    let (width, height) = spec.size();
    let (bytes, bars) = match format {
        ChartFormat::Png => {
            let mut rgb = vec![0u8; width as usize * height as usize * 3];
            let bars = {
                let root =
                    BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
                let bars = spec
                    .draw(&root, fonts, LabelText::Runs)
                    .map_err(chart_err)?;
                root.present().map_err(|e| chart_err(e.to_string()))?;
                bars
            };
            (encode_png(&rgb, width, height).map_err(chart_err)?, bars)
        }
        ChartFormat::Svg => {
            let mut svg = String::new();
            let bars = {
                let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
                let bars = spec
                    .draw(&root, fonts, LabelText::Whole)
                    .map_err(chart_err)?;
                root.present().map_err(|e| chart_err(e.to_string()))?;
                bars
            };
            (svg.into_bytes(), bars)
        }
    };
    write_atomically(path, |file| {
        file.write_all(&bytes)
            .map_err(|e| AnalysisError::io("write", path, e))
    })?;
    let mut missing_glyphs: Vec<char> = spec
        .bars
        .iter()
        .flat_map(|(label, _)| fonts.missing(label))
        .collect();
    missing_glyphs.sort_unstable();
    missing_glyphs.dedup();
    Ok(ChartFile {
        kind,
        format,
        path: path.to_owned(),
        bars,
        missing_glyphs,
    })
}

/// How a bar label becomes text elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LabelText {
    /// One element per font run, placed side by side (raster output, where
    /// the font chain does the fallback).
    Runs,
    /// One element in [`FONT_FAMILY`] (SVG, where the viewer does it).
    Whole,
}

/// Draws `text` anchored at `at` (`pos` says which point of the text that
/// is), in the label style.
fn draw_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fonts: &FontChain,
    text: &str,
    at: (i32, i32),
    pos: Pos,
    mode: LabelText,
) -> std::result::Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    if mode == LabelText::Whole {
        let style = (FONT_FAMILY, LABEL_SIZE).into_font().color(&BLACK).pos(pos);
        return root.draw(&Text::new(text.to_owned(), at, style)).map_err(e);
    }
    let runs = fonts.runs(text);
    let widths = runs
        .iter()
        .map(|run| run_width(run, LABEL_SIZE).map(|w| i32::try_from(w).unwrap_or(i32::MAX)))
        .collect::<std::result::Result<Vec<i32>, String>>()?;
    let total: i32 = widths.iter().sum();
    let mut x = match pos.h_pos {
        HPos::Left => at.0,
        HPos::Center => at.0 - total / 2,
        HPos::Right => at.0 - total,
    };
    for (run, width) in runs.iter().zip(widths) {
        let style = (run.family, f64::from(LABEL_SIZE) * run.scale)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, pos.v_pos));
        root.draw(&Text::new(run.text.as_str(), (x, at.1), style))
            .map_err(e)?;
        x += width;
    }
    Ok(())
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Shortens a label to at most [`MAX_LABEL_CHARS`] characters and
/// [`MAX_LABEL_WIDTH`] pixels (CJK characters are about twice as wide as
/// Latin ones), ending a shortened label with `…`.
fn fit_label(fonts: &FontChain, s: &str) -> std::result::Result<String, String> {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.len() <= MAX_LABEL_CHARS && fonts.text_width(s, LABEL_SIZE)? <= MAX_LABEL_WIDTH {
        return Ok(s.to_owned());
    }
    chars.truncate(MAX_LABEL_CHARS - 1);
    loop {
        let mut label: String = chars.iter().collect();
        label.push('…');
        if chars.len() <= 1 || fonts.text_width(&label, LABEL_SIZE)? <= MAX_LABEL_WIDTH {
            return Ok(label);
        }
        chars.pop();
    }
}

/// What to draw: labelled bars, horizontal (rankings) or vertical (histogram).
struct ChartSpec {
    title: &'static str,
    value_desc: &'static str,
    horizontal: bool,
    /// Labels and values, in display order (first = top / left).
    bars: Vec<(String, i64)>,
    /// Width in pixels of the widest label, as drawn with the font chain.
    label_width: u32,
}

impl ChartSpec {
    fn new(
        summary: &Summary,
        kind: ChartKind,
        fonts: &FontChain,
    ) -> std::result::Result<ChartSpec, String> {
        let fit = |name: &str| fit_label(fonts, name);
        let (value_desc, horizontal, bars): (_, _, Vec<(String, i64)>) = match kind {
            ChartKind::AuthorsByVotes => (
                "total score of their top answers",
                true,
                summary
                    .authors_by_votes
                    .iter()
                    .map(|a| Ok((fit(&a.author)?, a.votes)))
                    .collect::<std::result::Result<_, String>>()?,
            ),
            ChartKind::AuthorsByCount => (
                "questions whose top answer is theirs",
                true,
                summary
                    .authors_by_count
                    .iter()
                    .map(|a| Ok((fit(&a.author)?, i64::try_from(a.count).unwrap_or(i64::MAX))))
                    .collect::<std::result::Result<_, String>>()?,
            ),
            ChartKind::ScoreHistogram => (
                "questions",
                false,
                summary
                    .score_histogram
                    .iter()
                    .map(|b| {
                        let label = if b.low == b.high {
                            b.low.to_string()
                        } else {
                            format!("{}–{}", b.low, b.high)
                        };
                        (label, i64::try_from(b.count).unwrap_or(i64::MAX))
                    })
                    .collect(),
            ),
        };
        let mut label_width = 0;
        for (label, _) in &bars {
            label_width = label_width.max(fonts.text_width(label, LABEL_SIZE)?);
        }
        Ok(ChartSpec {
            title: kind.title(),
            value_desc,
            horizontal,
            bars,
            label_width,
        })
    }

    fn size(&self) -> (u32, u32) {
        let n = self.bars.len().max(1) as u32;
        if self.horizontal {
            let label = self.label_width.clamp(40, MAX_LABEL_WIDTH);
            (720 + label, 140 + 34 * n)
        } else {
            let slot = (self.label_width + 16).max(40);
            ((160 + slot * n).max(900), 560)
        }
    }

    /// Draws the chart; returns how many bars were drawn. The bar labels are
    /// drawn by [`draw_label`] (the mesh only draws their tick marks), so
    /// each label can use several fonts.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        fonts: &FontChain,
        mode: LabelText,
    ) -> std::result::Result<usize, String> {
        let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
        root.fill(&WHITE).map_err(e)?;
        let n = self.bars.len();
        let min = self.bars.iter().map(|b| b.1).min().unwrap_or(0).min(0);
        let max = self.bars.iter().map(|b| b.1).max().unwrap_or(0).max(0);
        let pad = ((max - min) / 20).max(1);
        let value_range = if min < 0 { min - pad } else { 0 }..max + pad;
        let slots = n.max(1) as i32;
        let title = if n == 0 {
            format!("{} (no data)", self.title)
        } else {
            self.title.to_owned()
        };
        let label_font = (FONT_FAMILY, LABEL_SIZE).into_font();
        // Integer ranges are inclusive in plotters: `0..slots-1` gives
        // exactly `slots` segments. A one-value range cannot be mapped, so a
        // single bar gets one empty segment beside it.
        let last_slot = (slots - 1).max(1);
        let segments = || (0..last_slot).into_segmented();
        let seg_end = |i: i32| {
            if i + 1 > last_slot {
                SegmentValue::Last
            } else {
                SegmentValue::Exact(i + 1)
            }
        };
        // Tick marks only: the labels themselves are drawn below.
        let no_label = |_: &SegmentValue<i32>| String::new();
        let value_label = |v: &i64| v.to_string();
        let mut builder = ChartBuilder::on(root);
        builder.caption(title, (FONT_FAMILY, TITLE_SIZE)).margin(16);
        let mut drawn = 0;
        if self.horizontal {
            let mut chart = builder
                .x_label_area_size(48)
                .y_label_area_size(self.label_width.clamp(40, MAX_LABEL_WIDTH) + 16)
                .build_cartesian_2d(value_range, segments())
                .map_err(e)?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_max_light_lines(1)
                .y_labels(n.max(1))
                .y_label_formatter(&no_label)
                .x_label_formatter(&value_label)
                .x_desc(self.value_desc)
                .label_style(label_font.clone())
                .axis_desc_style(label_font.clone())
                .draw()
                .map_err(e)?;
            let left = chart.plotting_area().get_pixel_range().0.start;
            for (i, (label, value)) in self.bars.iter().enumerate() {
                // Index 0 at the top: the y axis counts from the bottom.
                let y = slots - 1 - i as i32;
                let (_, center) = chart.backend_coord(&(0, SegmentValue::CenterOf(y)));
                let at = (left - LABEL_GAP, center);
                let pos = Pos::new(HPos::Right, VPos::Center);
                draw_label(root, fonts, label, at, pos, mode)?;
                if *value != 0 {
                    let mut rect = Rectangle::new(
                        [(0, SegmentValue::Exact(y)), (*value, seg_end(y))],
                        BAR_COLOR.filled(),
                    );
                    rect.set_margin(5, 5, 0, 0);
                    chart.draw_series(std::iter::once(rect)).map_err(e)?;
                    drawn += 1;
                }
            }
        } else {
            let mut chart = builder
                .x_label_area_size(48)
                .y_label_area_size(72)
                .build_cartesian_2d(segments(), value_range)
                .map_err(e)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .y_max_light_lines(1)
                .x_labels(n.max(1))
                .x_label_formatter(&no_label)
                .y_label_formatter(&value_label)
                .x_desc("top-answer score")
                .y_desc(self.value_desc)
                .label_style(label_font.clone())
                .axis_desc_style(label_font.clone())
                .draw()
                .map_err(e)?;
            let bottom = chart.plotting_area().get_pixel_range().1.end;
            for (i, (label, value)) in self.bars.iter().enumerate() {
                let x = i as i32;
                let (center, _) = chart.backend_coord(&(SegmentValue::CenterOf(x), 0));
                let at = (center, bottom + LABEL_GAP);
                let pos = Pos::new(HPos::Center, VPos::Top);
                draw_label(root, fonts, label, at, pos, mode)?;
                if *value != 0 {
                    let mut rect = Rectangle::new(
                        [(SegmentValue::Exact(x), 0), (seg_end(x), *value)],
                        BAR_COLOR.filled(),
                    );
                    rect.set_margin(0, 0, 3, 3);
                    chart.draw_series(std::iter::once(rect)).map_err(e)?;
                    drawn += 1;
                }
            }
        }
        Ok(drawn)
    }
}
