//! Bar charts of a [`Summary`] with plotters: PNG and SVG, no display needed.
//!
//! Text is laid out with DejaVu Sans, embedded in the crate
//! (`assets/DejaVuSans.ttf`, Bitstream Vera / DejaVu licence in
//! `assets/DejaVuSans-LICENSE.txt`) and registered with plotters' `ab_glyph`
//! backend, so no system fonts are needed and Latin, Greek and Cyrillic names
//! render. SVG files keep their text as text in the `sans-serif` family, which
//! the viewer resolves with its own fonts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::aggregate::Summary;
use crate::error::{AnalysisError, Result};
use crate::io::write_atomically;

/// The font family name the charts use (registered from the embedded font).
pub const FONT_FAMILY: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The colour of every bar (matplotlib's blue); nothing else in a chart uses it.
const BAR_COLOR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const LABEL_SIZE: u32 = 16;
const TITLE_SIZE: u32 = 24;
const MAX_LABEL_CHARS: usize = 40;

fn register_font() -> std::result::Result<(), String> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES)
                .map_err(|_| "the embedded DejaVu Sans font is invalid".to_owned())
        })
        .clone()
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
}

/// Writes every chart ([`ChartKind::ALL`]) as PNG and SVG into `dir`
/// (created if missing), named `<kind stem>.<png|svg>`, each atomically.
///
/// # Errors
/// [`AnalysisError::Chart`] if drawing fails, [`AnalysisError::Io`] if a file
/// cannot be written.
pub fn write_charts(summary: &Summary, dir: &Path) -> Result<Vec<ChartFile>> {
    let mut out = Vec::new();
    for kind in ChartKind::ALL {
        for format in [ChartFormat::Png, ChartFormat::Svg] {
            let path = dir.join(format!("{}.{}", kind.file_stem(), format.extension()));
            out.push(write_chart(summary, kind, format, &path)?);
        }
    }
    Ok(out)
}

/// Writes one chart to `path` atomically.
///
/// # Errors
/// As [`write_charts`].
pub fn write_chart(
    summary: &Summary,
    kind: ChartKind,
    format: ChartFormat,
    path: &Path,
) -> Result<ChartFile> {
    let chart_err = |message: String| AnalysisError::Chart {
        path: path.to_owned(),
        message,
    };
    register_font().map_err(chart_err)?;
    let spec = ChartSpec::new(summary, kind);
    let (width, height) = spec.size().map_err(chart_err)?;
    let (bytes, bars) = match format {
        ChartFormat::Png => {
            let mut rgb = vec![0u8; width as usize * height as usize * 3];
            let bars = {
                let root =
                    BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
                let bars = spec.draw(&root).map_err(chart_err)?;
                root.present().map_err(|e| chart_err(e.to_string()))?;
                bars
            };
            (encode_png(&rgb, width, height).map_err(chart_err)?, bars)
        }
        ChartFormat::Svg => {
            let mut svg = String::new();
            let bars = {
                let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
                let bars = spec.draw(&root).map_err(chart_err)?;
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
    Ok(ChartFile {
        kind,
        format,
        path: path.to_owned(),
        bars,
    })
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

/// Shortens a label to at most [`MAX_LABEL_CHARS`] characters.
fn short_label(s: &str) -> String {
    if s.chars().count() <= MAX_LABEL_CHARS {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX_LABEL_CHARS - 1).collect();
        out.push('…');
        out
    }
}

fn text_width(text: &str, size: u32) -> std::result::Result<u32, String> {
    (FONT_FAMILY, size)
        .into_font()
        .box_size(text)
        .map(|(w, _)| w)
        .map_err(|e| format!("cannot measure text {text:?}: {e}"))
}

/// What to draw: labelled bars, horizontal (rankings) or vertical (histogram).
struct ChartSpec {
    title: &'static str,
    value_desc: &'static str,
    horizontal: bool,
    /// Labels and values, in display order (first = top / left).
    bars: Vec<(String, i64)>,
}

impl ChartSpec {
    fn new(summary: &Summary, kind: ChartKind) -> ChartSpec {
        let (value_desc, horizontal, bars): (_, _, Vec<(String, i64)>) = match kind {
            ChartKind::AuthorsByVotes => (
                "total score of their top answers",
                true,
                summary
                    .authors_by_votes
                    .iter()
                    .map(|a| (short_label(&a.author), a.votes))
                    .collect(),
            ),
            ChartKind::AuthorsByCount => (
                "questions whose top answer is theirs",
                true,
                summary
                    .authors_by_count
                    .iter()
                    .map(|a| {
                        (
                            short_label(&a.author),
                            i64::try_from(a.count).unwrap_or(i64::MAX),
                        )
                    })
                    .collect(),
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
        ChartSpec {
            title: kind.title(),
            value_desc,
            horizontal,
            bars,
        }
    }

    fn max_label_width(&self) -> std::result::Result<u32, String> {
        let mut max = 0;
        for (label, _) in &self.bars {
            max = max.max(text_width(label, LABEL_SIZE)?);
        }
        Ok(max)
    }

    fn size(&self) -> std::result::Result<(u32, u32), String> {
        let n = self.bars.len().max(1) as u32;
        if self.horizontal {
            let label = self.max_label_width()?.clamp(40, 480);
            Ok((720 + label, 140 + 34 * n))
        } else {
            let slot = (self.max_label_width()? + 16).max(40);
            Ok(((160 + slot * n).max(900), 560))
        }
    }

    /// Draws the chart; returns how many bars were drawn.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<usize, String> {
        let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
        root.fill(&WHITE).map_err(e)?;
        let n = self.bars.len();
        let min = self.bars.iter().map(|b| b.1).min().unwrap_or(0).min(0);
        let max = self.bars.iter().map(|b| b.1).max().unwrap_or(0).max(0);
        let pad = ((max - min) / 20).max(1);
        let value_range = if min < 0 { min - pad } else { 0 }..max + pad;
        let label_width = self.max_label_width()?;
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
        let format_label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                let idx = if self.horizontal {
                    // Index 0 at the top: reverse the y axis.
                    usize::try_from(slots - 1 - *i).ok()
                } else {
                    usize::try_from(*i).ok()
                };
                idx.and_then(|i| self.bars.get(i))
                    .map(|b| b.0.clone())
                    .unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        let value_label = |v: &i64| v.to_string();
        let mut builder = ChartBuilder::on(root);
        builder.caption(title, (FONT_FAMILY, TITLE_SIZE)).margin(16);
        let mut drawn = 0;
        if self.horizontal {
            let mut chart = builder
                .x_label_area_size(48)
                .y_label_area_size(label_width.clamp(40, 480) + 16)
                .build_cartesian_2d(value_range, segments())
                .map_err(e)?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_max_light_lines(1)
                .y_labels(n.max(1))
                .y_label_formatter(&format_label)
                .x_label_formatter(&value_label)
                .x_desc(self.value_desc)
                .label_style(label_font.clone())
                .axis_desc_style(label_font.clone())
                .draw()
                .map_err(e)?;
            let rects = self
                .bars
                .iter()
                .enumerate()
                .filter(|(_, b)| b.1 != 0)
                .map(|(i, b)| {
                    let y = slots - 1 - i as i32;
                    let mut rect = Rectangle::new(
                        [(0, SegmentValue::Exact(y)), (b.1, seg_end(y))],
                        BAR_COLOR.filled(),
                    );
                    rect.set_margin(5, 5, 0, 0);
                    rect
                });
            for rect in rects {
                chart.draw_series(std::iter::once(rect)).map_err(e)?;
                drawn += 1;
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
                .x_label_formatter(&format_label)
                .y_label_formatter(&value_label)
                .x_desc("top-answer score")
                .y_desc(self.value_desc)
                .label_style(label_font.clone())
                .axis_desc_style(label_font.clone())
                .draw()
                .map_err(e)?;
            for (i, b) in self.bars.iter().enumerate().filter(|(_, b)| b.1 != 0) {
                let x = i as i32;
                let mut rect = Rectangle::new(
                    [(SegmentValue::Exact(x), 0), (seg_end(x), b.1)],
                    BAR_COLOR.filled(),
                );
                rect.set_margin(0, 0, 3, 3);
                chart.draw_series(std::iter::once(rect)).map_err(e)?;
                drawn += 1;
            }
        }
        Ok(drawn)
    }
}
