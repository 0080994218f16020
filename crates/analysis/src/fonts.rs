//! The charts' fonts: an ordered chain of faces with per-character fallback.
//!
//! plotters draws a text element with one font, and a font without a glyph
//! for a character draws an empty box ("tofu"). So a label is split into runs
//! of characters that the same face covers, each run drawn with the first
//! face of the chain that has its glyphs:
//!
//! 1. DejaVu Sans (embedded): Latin, Greek, Cyrillic, Armenian, Georgian, …
//! 2. Sofleet CJK (embedded): a subset of Noto Sans CJK SC covering GB 2312,
//!    Big5 level 1, JIS X 0208 and KS X 1001 (Chinese, Japanese and Korean
//!    names), see `assets/make-cjk-font.py`.
//! 3. Any font files the caller adds ([`ChartOptions::fallback_fonts`](crate::ChartOptions)).
//!
//! plotters draws characters left to right with no shaping, so raster labels
//! with right-to-left text first go through [`visual_text`]: Arabic-script
//! letters become their contextual presentation forms (`ar-reshaper`) and
//! the text is reordered for display (`unicode-bidi`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef};
use parking_lot::Mutex;
use plotters::style::{FontStyle, IntoFont, register_font};

use crate::charts::FONT_FAMILY;
use crate::error::{AnalysisError, Result};

static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static SOFLEET_CJK: &[u8] = include_bytes!("../assets/SofleetCJK-Regular.otf");

/// The plotters family name of the embedded CJK face.
const CJK_FAMILY: &str = "sofleet-cjk";

/// One font of the chain, registered with plotters under `family`.
#[derive(Clone)]
struct Face {
    family: String,
    font: FontRef<'static>,
}

impl Face {
    fn covers(&self, ch: char) -> bool {
        self.font.glyph_id(ch).0 != 0
    }

    /// Line height (ascent − descent) per em. ab_glyph scales a font so
    /// that its line height is the requested pixel size, so faces with
    /// taller lines (CJK fonts) would draw smaller glyphs at the same size.
    fn line_height_per_em(&self) -> f64 {
        let upem = self.font.units_per_em().unwrap_or(1000.0);
        f64::from(self.font.height_unscaled() / upem)
    }
}

/// A run of a label drawn with one face.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Run<'t> {
    /// The plotters family to draw it with.
    pub family: &'t str,
    /// The characters.
    pub text: String,
    /// Multiplier of the label size for this face, so that its glyphs get
    /// the same em size as the primary face's.
    pub scale: f64,
}

/// The faces a chart draws with, most preferred first.
#[derive(Clone)]
pub(crate) struct FontChain {
    faces: Vec<Face>,
}

/// `text` as it should be drawn left to right by a renderer without shaping
/// or bidi support: Arabic-script letters in their joined (presentation)
/// forms, right-to-left runs reversed by the Unicode bidi algorithm. Text
/// without right-to-left characters comes back unchanged.
pub(crate) fn visual_text(text: &str) -> String {
    if !text.chars().any(is_right_to_left) {
        return text.to_owned();
    }
    // The reshaper is table-driven; a panic on input it does not expect
    // must not take the report down, so fall back to the unshaped text.
    let shaped = std::panic::catch_unwind(|| {
        let reshaper = ar_reshaper::ArabicReshaper::default();
        if reshaper.need_reshape(text) {
            reshaper.reshape(text)
        } else {
            text.to_owned()
        }
    })
    .unwrap_or_else(|_| text.to_owned());
    let bidi = unicode_bidi::BidiInfo::new(&shaped, None);
    let mut visual = String::with_capacity(shaped.len());
    for paragraph in &bidi.paragraphs {
        visual.push_str(&bidi.reorder_line(paragraph, paragraph.range.clone()));
    }
    visual
}

/// Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic and their
/// presentation forms: the scripts written right to left.
fn is_right_to_left(ch: char) -> bool {
    matches!(ch,
        '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}'
        | '\u{10800}'..='\u{10FFF}' | '\u{1E800}'..='\u{1EFFF}')
}

/// Characters that draw nothing (direction marks, joiners, variation
/// selectors, byte-order mark): dropped before layout, never "missing".
fn is_invisible(ch: char) -> bool {
    ch.is_control()
        || matches!(ch,
            '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}')
}

fn embedded_faces() -> std::result::Result<&'static [Face], String> {
    static FACES: OnceLock<std::result::Result<Vec<Face>, String>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            let mut faces = Vec::new();
            for (family, bytes, name) in [
                (FONT_FAMILY, DEJAVU_SANS, "DejaVu Sans"),
                (CJK_FAMILY, SOFLEET_CJK, "Sofleet CJK"),
            ] {
                let invalid = || format!("the embedded {name} font is invalid");
                let font = FontRef::try_from_slice(bytes).map_err(|_| invalid())?;
                register_font(family, FontStyle::Normal, bytes).map_err(|_| invalid())?;
                faces.push(Face {
                    family: family.to_owned(),
                    font,
                });
            }
            Ok(faces)
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// Loads (once per process and path) a caller's font file and registers it
/// with plotters. plotters keeps fonts for the whole process, so the file's
/// bytes are leaked on purpose: one allocation per distinct font file.
fn load_fallback(path: &Path) -> Result<Face> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Face>>> = OnceLock::new();
    let font_err = |message: String| AnalysisError::Font {
        path: path.to_owned(),
        message,
    };
    let key = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let loaded = LOADED.get_or_init(Mutex::default);
    if let Some(face) = loaded.lock().get(&key) {
        return Ok(face.clone());
    }
    let bytes = std::fs::read(path).map_err(|e| font_err(e.to_string()))?;
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let not_a_font =
        || font_err("not a TrueType or OpenType font (give a .ttf, .otf or .ttc file)".to_owned());
    let font = FontRef::try_from_slice(bytes).map_err(|_| not_a_font())?;
    let mut loaded = loaded.lock();
    let family = format!("sofleet-fallback-{}", loaded.len());
    register_font(&family, FontStyle::Normal, bytes).map_err(|_| not_a_font())?;
    let face = Face { family, font };
    loaded.insert(key, face.clone());
    Ok(face)
}

impl FontChain {
    /// The embedded faces followed by `fallback_fonts`, in order.
    pub(crate) fn new(fallback_fonts: &[PathBuf]) -> Result<FontChain> {
        let embedded = embedded_faces().map_err(|message| AnalysisError::Font {
            path: PathBuf::from("<embedded>"),
            message,
        })?;
        let mut faces = embedded.to_vec();
        for path in fallback_fonts {
            faces.push(load_fallback(path)?);
        }
        Ok(FontChain { faces })
    }

    /// The index of the face to draw `ch` with, preferring `current` (the
    /// face of the run being built) when it covers `ch`, so spaces and
    /// punctuation do not break runs; `None` if no face covers it.
    fn face_for(&self, ch: char, current: Option<usize>) -> Option<usize> {
        if let Some(i) = current.filter(|&i| self.faces[i].covers(ch)) {
            return Some(i);
        }
        self.faces.iter().position(|f| f.covers(ch))
    }

    /// Splits `text` into runs in drawing order ([`visual_text`]), each
    /// drawn with one face. Characters no face covers go to the primary face
    /// (which draws an empty box for them).
    pub(crate) fn runs(&self, text: &str) -> Vec<Run<'_>> {
        let mut runs: Vec<Run<'_>> = Vec::new();
        let mut current: Option<usize> = None;
        for ch in visual_text(text).chars().filter(|&c| !is_invisible(c)) {
            let face = self.face_for(ch, current).unwrap_or(0);
            match runs.last_mut() {
                Some(run) if current == Some(face) => run.text.push(ch),
                _ => runs.push(Run {
                    family: &self.faces[face].family,
                    text: ch.to_string(),
                    scale: self.faces[face].line_height_per_em()
                        / self.faces[0].line_height_per_em(),
                }),
            }
            current = Some(face);
        }
        runs
    }

    /// The characters of `text`, as drawn ([`visual_text`]), that no face
    /// has a glyph for.
    pub(crate) fn missing(&self, text: &str) -> Vec<char> {
        visual_text(text)
            .chars()
            .filter(|&c| !is_invisible(c) && self.face_for(c, None).is_none())
            .collect()
    }

    /// The width in pixels of `text` drawn run by run at `size`.
    pub(crate) fn text_width(&self, text: &str, size: u32) -> std::result::Result<u32, String> {
        let mut width = 0;
        for run in self.runs(text) {
            width += run_width(&run, size)?;
        }
        Ok(width)
    }
}

/// The width in pixels of one run at `size`.
pub(crate) fn run_width(run: &Run<'_>, size: u32) -> std::result::Result<u32, String> {
    (run.family, f64::from(size) * run.scale)
        .into_font()
        .box_size(&run.text)
        .map(|(w, _)| w)
        .map_err(|e| format!("cannot measure text {:?}: {e}", run.text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> FontChain {
        FontChain::new(&[]).expect("embedded fonts")
    }

    #[test]
    fn right_to_left_text_is_shaped_and_reordered_for_drawing() {
        // Hebrew needs no shaping: the letters are simply reversed.
        assert_eq!(visual_text("דוד"), "דוד".chars().rev().collect::<String>());
        // Left-to-right text around a Hebrew name keeps its order.
        assert_eq!(visual_text("Dr. אבי"), "Dr. יבא");
        // Arabic: سلام joins as seen initial, lam-alef ligature, final meem,
        // drawn right to left.
        assert_eq!(visual_text("سلام"), "\u{FEE1}\u{FEFC}\u{FEB3}");
        // The embedded fonts have every presentation form used.
        let chain = chain();
        for name in ["سلام", "عمر فاروق", "حمید رضایی", "דוד כהן"] {
            assert!(chain.missing(name).is_empty(), "{name}");
            let drawn: String = chain.runs(name).into_iter().map(|r| r.text).collect();
            assert_eq!(drawn, visual_text(name));
        }
        // Nothing right to left: unchanged.
        assert_eq!(visual_text("Zoë 李雷"), "Zoë 李雷");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Any mix of Arabic, Hebrew, Latin, digits, joiners and marks lays
        /// out without panicking, keeping every visible character.
        #[test]
        fn any_right_to_left_mix_lays_out(
            text in "[\u{0600}-\u{06FF}\u{0590}-\u{05FF}\u{FE70}-\u{FEFF} a-z0-9()\u{200C}-\u{200F}\u{064B}-\u{0652}]{0,30}"
        ) {
            let chain = chain();
            let runs = chain.runs(&text);
            let drawn: usize = runs.iter().map(|r| r.text.chars().count()).sum();
            proptest::prop_assert!(drawn <= text.chars().count() * 2);
            proptest::prop_assert!(text.chars().all(is_invisible) || !runs.is_empty());
            chain.text_width(&text, 16).map_err(proptest::test_runner::TestCaseError::fail)?;
        }
    }

    #[test]
    fn cjk_runs_are_scaled_to_the_primary_em_size() {
        let chain = chain();
        let runs = chain.runs("Zoë 李");
        assert_eq!(runs[0].scale, 1.0);
        // Noto Sans CJK's line is taller per em than DejaVu Sans's.
        assert!(
            runs[1].scale > 1.1 && runs[1].scale < 1.5,
            "{}",
            runs[1].scale
        );
    }

    fn families<'c>(chain: &'c FontChain, text: &str) -> Vec<(&'c str, String)> {
        chain
            .runs(text)
            .into_iter()
            .map(|r| (r.family, r.text))
            .collect()
    }

    #[test]
    fn latin_and_cjk_parts_of_a_label_use_their_own_faces() {
        let chain = chain();
        assert_eq!(
            families(&chain, "Zoë 李雷"),
            vec![
                (FONT_FAMILY, "Zoë ".to_owned()),
                (CJK_FAMILY, "李雷".to_owned())
            ]
        );
        // Kana, Hangul and traditional characters come from the CJK face.
        for name in ["田中 花子", "김민준", "張偉", "カタカナ"] {
            assert!(
                chain.runs(name).iter().any(|r| r.family == CJK_FAMILY),
                "{name}"
            );
            assert!(chain.missing(name).is_empty(), "{name}");
        }
    }

    #[test]
    fn uncovered_and_invisible_characters() {
        let chain = chain();
        // U+3400 is CJK extension A: not in the embedded subset.
        assert_eq!(chain.missing("a\u{3400}b"), ['\u{3400}']);
        // Joiners and direction marks are dropped, not reported.
        assert!(chain.missing("a\u{200D}\u{200F}b").is_empty());
        assert_eq!(
            families(&chain, "a\u{200D}b"),
            vec![(FONT_FAMILY, "ab".to_owned())]
        );
        assert!(chain.runs("").is_empty());
    }

    #[test]
    fn run_widths_add_up_to_the_label_width() {
        let chain = chain();
        let label = "Zoë 李雷";
        let sum: u32 = chain
            .runs(label)
            .iter()
            .map(|r| run_width(r, 16).unwrap())
            .sum();
        assert_eq!(chain.text_width(label, 16).unwrap(), sum);
        assert!(chain.text_width("李雷", 16).unwrap() > chain.text_width("李", 16).unwrap());
    }
}
